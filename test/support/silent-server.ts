// Storage that hangs: a TCP server that accepts connections and never answers, with a connection string whose
// table endpoint it is.
import net from 'node:net';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../../dev/azurite';

export interface SilentServer {
  port: number;
  /** A connection string whose table endpoint is this server. */
  connectionString: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections the client has not closed. */
  readonly openConnections: number;
  stop(): Promise<void>;
}

/** A TCP server that accepts every connection and never sends a byte: storage that hangs. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read (and ignore) the request, so that the client's close is seen
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connectionString: storageConnectionString(port),
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Azurite's development account on a port. */
export function storageConnectionString(port: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
    `TableEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME};`
  );
}
