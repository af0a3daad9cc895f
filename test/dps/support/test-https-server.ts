// A throw-away HTTPS server on 127.0.0.1 (ephemeral port, self-signed certificate) standing in for DPS.
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void;

export interface TestHttpsServer {
  /** `127.0.0.1:{port}`, as it goes into a connection string. */
  hostName: string;
  /** PEM certificate to trust. */
  ca: string;
  requests: RecordedRequest[];
  /** TLS connections accepted so far. */
  connections: number;
  /** Answers every request; replace it per test. */
  handler: Handler;
  close(): Promise<void>;
}

let certificate: Promise<{ cert: string; key: string }> | undefined;

function testCertificate(): Promise<{ cert: string; key: string }> {
  certificate ??= generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  }).then((pems) => ({ cert: pems.cert, key: pems.private }));
  return certificate;
}

/** Sends a JSON body with the given status and headers. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(text);
}

export async function startTestHttpsServer(): Promise<TestHttpsServer> {
  const { cert, key } = await testCertificate();
  const state: TestHttpsServer = {
    hostName: '',
    ca: cert,
    requests: [],
    connections: 0,
    handler: (_request, response) => sendJson(response, 500, { message: 'no handler' }),
    close: async () => undefined,
  };
  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      state.requests.push(recorded);
      state.handler(recorded, res);
    });
  });
  server.on('secureConnection', () => {
    state.connections++;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.hostName = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}
