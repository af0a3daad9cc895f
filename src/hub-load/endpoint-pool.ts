// A connection pool to an endpoint that serves several hubs (the IoT Hub emulator, told apart by the Host header).
// undici takes a request's TLS server name from its Host header, and opens a new connection whenever it changes:
// here every request names the endpoint itself, so connections are kept across hubs, and the certificate is checked
// against the name it was issued for (127.0.0.1 or localhost). One TLS context for every connection: parsing the
// extra CA for each one would cost more than the request.
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { buildConnector, Pool, type Dispatcher } from 'undici';

export interface EndpointPoolOptions {
  caCertificate?: string | Buffer;
  connections: number;
  connectTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export function endpointPool(origin: string, options: EndpointPoolOptions): Dispatcher {
  const hostname = new URL(origin).hostname.replace(/^\[|\]$/g, '');
  const connect = buildConnector({
    timeout: options.connectTimeoutMs,
    ...(options.caCertificate === undefined
      ? {}
      : { secureContext: createSecureContext({ ca: options.caCertificate }) }),
  });
  // No SNI for an IP address (RFC 6066 §3): Node then checks the certificate against the address itself.
  const sni = isIP(hostname) ? undefined : hostname;
  const pool = new Pool(origin, {
    connections: options.connections,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connect: (connectOptions, callback) => connect({ ...connectOptions, servername: sni }, callback),
  });
  // `servername` is an option of undici's requests its types leave out.
  return pool.compose(
    (dispatch) => (request, handler) =>
      dispatch({ ...request, servername: hostname } as Dispatcher.DispatchOptions, handler),
  );
}
