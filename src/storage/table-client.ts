// TableClients on a StorageConnection, each attempt of a request limited in time (attempt-timeout.ts).
import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import type * as Identity from '@azure/identity';
import { attemptTimeoutPolicy, DEFAULT_ATTEMPT_TIMEOUT_MS } from './attempt-timeout';
import { usesHttp, type StorageConnection } from './connection';

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

/** One credential shared by a store's table clients (token caching), created only for identity connections. */
export function sharedCredential(connection: StorageConnection): TokenCredential | undefined {
  return connection.kind === 'identity' ? credentialFor(connection) : undefined;
}
