// Which storage account the audit tables live in: AUDIT_STORAGE_CONNECTION_STRING, else the Functions host's own
// AzureWebJobsStorage (a connection string locally; in Azure a managed-identity endpoint,
// AzureWebJobsStorage__tableServiceUri or __accountName, with __clientId for a user-assigned identity).
import type { TokenCredential } from '@azure/identity';
import type * as Identity from '@azure/identity';
import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { attemptTimeoutPolicy, DEFAULT_ATTEMPT_TIMEOUT_MS } from './attempt-timeout';

export type StorageConnection =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; tableServiceUri: string; clientId?: string; credential?: TokenCredential };

export class AuditConfigurationError extends Error {
  override name = 'AuditConfigurationError';
}

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
  throw new AuditConfigurationError(
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
    TableClient.fromConnectionString(connectionString, 'probe', {
      allowInsecureConnection: usesHttp(connectionString),
    });
    usableConnectionStrings.add(connectionString);
  } catch {
    throw new AuditConfigurationError(
      `${setting} is not a storage connection string the table SDK can use: it needs ` +
        'DefaultEndpointsProtocol, AccountName, AccountKey and EndpointSuffix (or TableEndpoint), or TableEndpoint ' +
        'with SharedAccessSignature, or UseDevelopmentStorage=true.',
    );
  }
  return { kind: 'connectionString', connectionString };
}

/** Plain http (Azurite) must be allowed explicitly; `UseDevelopmentStorage=true` is http too. */
function usesHttp(connectionString: string): boolean {
  return /DefaultEndpointsProtocol=http(;|$)|TableEndpoint=http:|UseDevelopmentStorage=true/i.test(
    connectionString,
  );
}

function credentialFor(connection: Extract<StorageConnection, { kind: 'identity' }>): TokenCredential {
  if (connection.credential) return connection.credential;
  // Loaded only here: the connection-string path (local runs, tests) never pays for @azure/identity.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require('@azure/identity') as typeof Identity;
  return connection.clientId
    ? new identity.ManagedIdentityCredential({ clientId: connection.clientId })
    : new identity.DefaultAzureCredential();
}

export function createTableClient(
  connection: StorageConnection,
  tableName: string,
  clientOptions: TableServiceClientOptions & { attemptTimeoutMs?: number },
  credential?: TokenCredential,
): TableClient {
  const { attemptTimeoutMs = DEFAULT_ATTEMPT_TIMEOUT_MS, ...rest } = clientOptions;
  const options: TableServiceClientOptions = {
    ...rest,
    additionalPolicies: [
      ...(rest.additionalPolicies ?? []),
      { policy: attemptTimeoutPolicy(attemptTimeoutMs), position: 'perRetry' },
    ],
  };
  if (connection.kind === 'connectionString') {
    return TableClient.fromConnectionString(connection.connectionString, tableName, {
      ...options,
      allowInsecureConnection: usesHttp(connection.connectionString),
    });
  }
  return new TableClient(
    connection.tableServiceUri,
    tableName,
    credential ?? credentialFor(connection),
    options,
  );
}

/** One credential shared by the five table clients (token caching), created only for identity connections. */
export function sharedCredential(connection: StorageConnection): TokenCredential | undefined {
  return connection.kind === 'identity' ? credentialFor(connection) : undefined;
}
