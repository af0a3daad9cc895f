// Azurite's Table service in-process (docs/dps-contract.md §7.5): for tests (port 0, in memory or a temporary
// folder) and for the local stack (a fixed port, data under a git-ignored folder such as .local/azurite).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import TableConfiguration from 'azurite/dist/src/table/TableConfiguration';
import TableServer from 'azurite/dist/src/table/TableServer';

/** Azurite's fixed development account; its key is public (learn.microsoft.com/azure/storage/common/storage-use-azurite). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The file name the Azurite CLI uses, so a folder can be shared with `azurite-table --location`. */
const DATABASE_FILE = '__azurite_db_table__.json';
const HOST = '127.0.0.1';

export interface AzuriteOptions {
  /** 0 (default): an ephemeral port. Azurite's usual Table port is 10002. */
  port?: number;
  /** Keeps the data in this folder (created if missing) and reloads it on start; default: in memory only. */
  dataDir?: string;
}

export interface Azurite {
  /** The port, fixed for the life of this object (restart() reuses it). */
  readonly port: number;
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  readonly tableEndpoint: string;
  /** Account connection string; @azure/data-tables needs `allowInsecureConnection: true` for its http endpoint. */
  readonly connectionString: string;
  readonly running: boolean;
  /** Stops serving, as in a storage outage. With dataDir the data is saved and comes back with restart(). */
  interrupt(): Promise<void>;
  /** Serves again on the same port, from the same data folder. Needs dataDir (in-memory data does not survive). */
  restart(): Promise<void>;
  /** Stops for good (the data folder is left in place). */
  stop(): Promise<void>;
}

function createServer(port: number, dataDir: string | undefined): TableServer {
  const inMemory = dataDir === undefined;
  const configuration = new TableConfiguration(
    HOST,
    port,
    5, // keep-alive timeout, seconds
    inMemory ? ':memory:' : path.join(dataDir, DATABASE_FILE),
    false, // debug log
    false, // access log
    undefined,
    undefined,
    false, // loose
    true, // skipApiVersionCheck: newer SDKs send versions Azurite 3.35 may not list yet
    '',
    '',
    '',
    undefined,
    false,
    inMemory,
  );
  return new TableServer(configuration);
}

/** Starts, retrying briefly when the port of a server that just closed is not free yet. */
async function startOn(port: number, dataDir: string | undefined): Promise<TableServer> {
  for (let attempt = 1; ; attempt++) {
    const server = createServer(port, dataDir);
    try {
      await server.start();
      return server;
    } catch (error) {
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || port === 0 || attempt >= 20) throw error;
      await server.close().catch(() => undefined);
      await delay(50);
    }
  }
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const dataDir = options.dataDir === undefined ? undefined : path.resolve(options.dataDir);
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  let server: TableServer | undefined = await startOn(options.port ?? 0, dataDir);
  const port = Number(new URL(server.getHttpServerAddress()).port);
  const tableEndpoint = `http://${HOST}:${port}/${AZURITE_ACCOUNT_NAME}`;

  const interrupt = async (): Promise<void> => {
    const running = server;
    server = undefined;
    await running?.close();
  };

  return {
    port,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};` +
      `AccountKey=${AZURITE_ACCOUNT_KEY};TableEndpoint=${tableEndpoint};`,
    get running() {
      return server !== undefined;
    },
    interrupt,
    async restart() {
      if (dataDir === undefined) {
        throw new Error('Azurite restart() keeps the data only with a dataDir; start it with one.');
      }
      await interrupt();
      server = await startOn(port, dataDir);
    },
    stop: interrupt,
  };
}
