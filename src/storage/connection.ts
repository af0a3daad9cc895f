// Which storage account the app's tables (the audit's and the decision log's) live in:
// AUDIT_STORAGE_CONNECTION_STRING, else the Functions host's own AzureWebJobsStorage (a connection string locally;
// in Azure a managed-identity endpoint, AzureWebJobsStorage__tableServiceUri or __accountName, with __clientId for
// a user-assigned identity). Loading this file loads no SDK: allocate names its error without paying for one.
import type * as Tables from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { ConfigurationError } from '../settings';

export type StorageConnection =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; tableServiceUri: string; clientId?: string; credential?: TokenCredential };

/** A connection string, as opposed to the name of a setting group or an empty value. */
const isConnectionString = (value: string | undefined): value is string =>
  value !== undefined && /=/.test(value);

/**
 * Chooses the connection from the app settings. AzureWebJobsStorage and its `__` variants are the host's platform
 * settings, read here as they are rather than through src/settings.ts.
 */
export function storageConnectionFrom(
  auditConnectionString: string | undefined,
  env: NodeJS.ProcessEnv,
): StorageConnection {
  if (auditConnectionString) {
    return checkedConnectionString(auditConnectionString, 'AUDIT_STORAGE_CONNECTION_STRING');
  }
  const host = env.AzureWebJobsStorage?.trim();
  if (isConnectionString(host)) return checkedConnectionString(host, 'AzureWebJobsStorage');
  const accountName = env.AzureWebJobsStorage__accountName?.trim();
  const tableServiceUri =
    env.AzureWebJobsStorage__tableServiceUri?.trim() ||
    (accountName ? `https://${accountName}.table.core.windows.net` : undefined);
  if (tableServiceUri) {
    const clientId = env.AzureWebJobsStorage__clientId?.trim() || undefined;
    return { kind: 'identity', tableServiceUri, clientId };
  }
  throw new ConfigurationError(
    'The audit has no storage account: set AUDIT_STORAGE_CONNECTION_STRING, or AzureWebJobsStorage (a connection ' +
      'string), or AzureWebJobsStorage__tableServiceUri for the managed identity.',
  );
}

/** Connection strings the SDK has parsed already: the settings are read on every HTTP request. */
const usableConnectionStrings = new Set<string>();

/**
 * A connection string the table SDK can use, or an error that names the setting (never its value: it holds a key).
 * The SDK parses it, so the check is the SDK's own; its errors for a malformed string name neither the setting nor
 * the problem (some are TypeErrors), so they are replaced here.
 */
function checkedConnectionString(value: string, setting: string): StorageConnection {
  const connectionString = value.trim();
  if (usableConnectionStrings.has(connectionString)) return { kind: 'connectionString', connectionString };
  try {
    // Loaded here, not with the module: see the header.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { TableClient } = require('@azure/data-tables') as typeof Tables;
    TableClient.fromConnectionString(connectionString, 'probe', {
      allowInsecureConnection: usesHttp(connectionString),
    });
    usableConnectionStrings.add(connectionString);
  } catch {
    throw new ConfigurationError(
      `${setting} is not a storage connection string the table SDK can use: it needs ` +
        'DefaultEndpointsProtocol, AccountName, AccountKey and EndpointSuffix (or TableEndpoint), or TableEndpoint ' +
        'with SharedAccessSignature, or UseDevelopmentStorage=true.',
    );
  }
  return { kind: 'connectionString', connectionString };
}

/** Plain http (Azurite) must be allowed explicitly; `UseDevelopmentStorage=true` is http too. */
export function usesHttp(connectionString: string): boolean {
  return /DefaultEndpointsProtocol=http(;|$)|TableEndpoint=http:|UseDevelopmentStorage=true/i.test(
    connectionString,
  );
}
