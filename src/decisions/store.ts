// Reading the decision table: one TableClient with short SDK retries (an operator or a dashboard waiting on a
// storage outage gets an answer, a 503, within a few seconds); failures are StorageErrors naming the table.
import type { TableClient } from '@azure/data-tables';
import type { Settings } from '../settings';
import { storageConnectionFrom, type StorageConnection } from '../storage/connection';
import { storageCall } from '../storage/errors';
import { INTERACTIVE_STORAGE_RETRY, retryClientOptions, type StorageRetryOptions } from '../storage/retry';
import { createTableClient } from '../storage/table-client';
import { DEFAULT_TABLE_PREFIX } from '../storage/table-names';
import { decisionsTableName } from './table';

export interface DecisionStoreOptions {
  connection: StorageConnection;
  /** AUDIT_TABLE_PREFIX; default `Audit`. */
  tablePrefix?: string;
  retry?: Partial<StorageRetryOptions>;
}

export class DecisionStore {
  readonly tableName: string;
  readonly client: TableClient;

  constructor(options: DecisionStoreOptions) {
    this.tableName = decisionsTableName(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.client = createTableClient(
      options.connection,
      this.tableName,
      retryClientOptions(options.retry, INTERACTIVE_STORAGE_RETRY),
    );
  }

  /** Runs a storage call; what fails becomes a StorageError naming the table. */
  call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return storageCall(operation, this.tableName, run);
  }
}

const stores = new Map<string, DecisionStore>();

/** The decision store of the app settings; one per connection and prefix in a process. */
export function decisionStoreFor(settings: Settings, env: NodeJS.ProcessEnv = process.env): DecisionStore {
  const connection = storageConnectionFrom(settings.AUDIT_STORAGE_CONNECTION_STRING, env);
  const key = JSON.stringify([connection, settings.AUDIT_TABLE_PREFIX]);
  let store = stores.get(key);
  if (!store) {
    store = new DecisionStore({ connection, tablePrefix: settings.AUDIT_TABLE_PREFIX });
    stores.set(key, store);
  }
  return store;
}
