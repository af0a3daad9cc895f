// Azurite's Table service in-process (docs/dps-contract.md §7.5), and its Blob service when asked (the DPS
// emulator archives its resource logs there, §4.4): for tests (port 0, in memory or a temporary folder) and for
// the local stack (fixed ports, data under a git-ignored folder such as .local/azurite).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import BlobConfiguration from 'azurite/dist/src/blob/BlobConfiguration';
import BlobServer from 'azurite/dist/src/blob/BlobServer';
import TableConfiguration from 'azurite/dist/src/table/TableConfiguration';
import TableServer from 'azurite/dist/src/table/TableServer';

/** Azurite's fixed development account; its key is public (learn.microsoft.com/azure/storage/common/storage-use-azurite). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The file name the Azurite CLI uses, so a folder can be shared with `azurite-table --location`. */
const DATABASE_FILE = '__azurite_db_table__.json';
/** Those of `azurite-blob --location`. */
const BLOB_DATABASE_FILE = '__azurite_db_blob__.json';
const BLOB_EXTENT_DATABASE_FILE = '__azurite_db_blob_extent__.json';
const BLOB_EXTENT_FOLDER = '__blobstorage__';
const HOST = '127.0.0.1';

export interface AzuriteOptions {
  /** 0 (default): an ephemeral port. Azurite's usual Table port is 10002. */
  port?: number;
  /** Keeps the data in this folder (created if missing) and reloads it on start; default: in memory only. */
  dataDir?: string;
  /** Also serve Blob storage on this port (0: an ephemeral one; Azurite's usual Blob port is 10000). */
  blobPort?: number;
}

export interface Azurite {
  /** The port, fixed for the life of this object (restart() reuses it). */
  readonly port: number;
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  readonly tableEndpoint: string;
  /** `http://127.0.0.1:PORT/devstoreaccount1` when Blob storage is served (`blobPort`). */
  readonly blobEndpoint: string | undefined;
  /**
   * Account connection string (with the BlobEndpoint when Blob storage is served); @azure/data-tables needs
   * `allowInsecureConnection: true` for its http endpoint.
   */
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

function createBlobServer(port: number, dataDir: string | undefined): BlobServer {
  const inMemory = dataDir === undefined;
  const inFolder = (file: string) => (inMemory ? file : path.join(dataDir, file));
  const configuration = new BlobConfiguration(
    HOST,
    port,
    5, // keep-alive timeout, seconds
    inFolder(BLOB_DATABASE_FILE),
    inFolder(BLOB_EXTENT_DATABASE_FILE),
    [{ locationId: 'Default', locationPath: inFolder(BLOB_EXTENT_FOLDER), maxConcurrency: 10 }],
    false, // access log
    undefined,
    false, // debug log
    undefined,
    false, // loose
    true, // skipApiVersionCheck, as for tables
    '',
    '',
    '',
    undefined,
    false,
    inMemory,
  );
  return new BlobServer(configuration);
}

interface StartableServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
}

/** Starts, retrying briefly when the port of a server that just closed is not free yet. */
async function startOn<S extends StartableServer>(port: number, create: (port: number) => S): Promise<S> {
  for (let attempt = 1; ; attempt++) {
    const server = create(port);
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
  const tables = (port: number) => createServer(port, dataDir);
  const blobs = (port: number) => createBlobServer(port, dataDir);
  let server: TableServer | undefined = await startOn(options.port ?? 0, tables);
  let blobServer: BlobServer | undefined;
  try {
    if (options.blobPort !== undefined) blobServer = await startOn(options.blobPort, blobs);
  } catch (error) {
    await server.close();
    throw error;
  }
  const portOf = (started: StartableServer) => Number(new URL(started.getHttpServerAddress()).port);
  const port = portOf(server);
  const blobPort = blobServer && portOf(blobServer);
  const tableEndpoint = `http://${HOST}:${port}/${AZURITE_ACCOUNT_NAME}`;
  const blobEndpoint =
    blobPort === undefined ? undefined : `http://${HOST}:${blobPort}/${AZURITE_ACCOUNT_NAME}`;

  const interrupt = async (): Promise<void> => {
    const running = [server, blobServer];
    server = undefined;
    blobServer = undefined;
    await Promise.all(running.map((started) => started?.close()));
  };

  return {
    port,
    tableEndpoint,
    blobEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};` +
      `AccountKey=${AZURITE_ACCOUNT_KEY};TableEndpoint=${tableEndpoint};` +
      (blobEndpoint ? `BlobEndpoint=${blobEndpoint};` : ''),
    get running() {
      return server !== undefined;
    },
    interrupt,
    async restart() {
      if (dataDir === undefined) {
        throw new Error('Azurite restart() keeps the data only with a dataDir; start it with one.');
      }
      await interrupt();
      server = await startOn(port, tables);
      if (blobPort !== undefined) blobServer = await startOn(blobPort, blobs);
    },
    stop: interrupt,
  };
}
