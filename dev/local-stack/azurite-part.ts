// Azurite's Table and Blob services in-process, with their data in the stack's data folder so that audit rows (and
// the DPS emulator's archived resource logs) survive a restart.
import { startAzurite, type Azurite } from '../azurite';
import type { LocalStackPaths } from './paths';
import { displayPath } from './paths';
import { DEFAULT_BLOB_PORT, DEFAULT_STORAGE_PORT, type LocalStackPart } from './types';

export interface AzuritePart extends LocalStackPart {
  azurite: Azurite;
  /**
   * What the functions and the CLIs use: `UseDevelopmentStorage=true` on Azurite's usual port, else the explicit
   * development-account string (its key is Azurite's public, documented one: not a secret).
   */
  storageConnectionString: string;
}

export const DEVELOPMENT_STORAGE = 'UseDevelopmentStorage=true';

export async function startAzuritePart(options: {
  port: number;
  paths: LocalStackPaths;
  appRoot: string;
}): Promise<AzuritePart> {
  let azurite: Azurite;
  // UseDevelopmentStorage=true means Blob storage on 10000 beside Table storage on 10002.
  const blobPort = options.port === DEFAULT_STORAGE_PORT ? DEFAULT_BLOB_PORT : 0;
  try {
    azurite = await startAzurite({ port: options.port, blobPort, dataDir: options.paths.azuriteDir });
  } catch (error) {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    const ports = blobPort === 0 ? String(options.port) : `${options.port} or ${blobPort}`;
    throw new Error(
      inUse
        ? `Azurite cannot listen on 127.0.0.1:${ports}: the port is in use (another Azurite?). Stop it, ` +
            'or give --storage-port <n> (0 = any free ports).'
        : `Azurite did not start: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const storageConnectionString =
    azurite.port === DEFAULT_STORAGE_PORT ? DEVELOPMENT_STORAGE : azurite.connectionString;
  return {
    name: 'Azurite',
    azurite,
    storageConnectionString,
    banner: [
      `Table storage (Azurite): ${azurite.tableEndpoint}, data in ${displayPath(options.appRoot, options.paths.azuriteDir)}`,
      `  Blob storage: ${azurite.blobEndpoint ?? 'off'} (the DPS emulator's archived DeviceOperations logs)`,
      `  Azure Storage Explorer: connect with the connection string ${storageConnectionString}`,
    ],
    stop: () => azurite.stop(),
  };
}
