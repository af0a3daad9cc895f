// Azurite's Table service in-process, with its data in the stack's data folder so that audit rows survive a restart.
import { startAzurite, type Azurite } from '../azurite';
import type { LocalStackPaths } from './paths';
import { displayPath } from './paths';
import { DEFAULT_STORAGE_PORT, type LocalStackPart } from './types';

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
  try {
    azurite = await startAzurite({ port: options.port, dataDir: options.paths.azuriteDir });
  } catch (error) {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new Error(
      inUse
        ? `Azurite cannot listen on 127.0.0.1:${options.port}: the port is in use (another Azurite?). Stop it, ` +
            'or give --storage-port <n> (0 = any free port).'
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
      `  Azure Storage Explorer: connect with the connection string ${storageConnectionString}`,
    ],
    stop: () => azurite.stop(),
  };
}
