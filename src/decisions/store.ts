// Reading the decision table: one TableClient with short SDK retries (an operator or a dashboard waiting on a
// storage outage gets an answer, a 503, within a few seconds), errors as the audit's AuditStorageError so the
// audit CLI and HTTP API explain them the same way.
import type { TableClient } from '@azure/data-tables';
import { createTableClient, storageConnectionFrom, type StorageConnection } from '../audit/connection';
import { AuditStorageError, INTERACTIVE_STORAGE_RETRY, type StorageRetryOptions } from '../audit/store';
import type { Settings } from '../settings';
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
    this.tableName = decisionsTableName(options.tablePrefix ?? 'Audit');
    const { attemptTimeoutMs, ...retryOptions } = { ...INTERACTIVE_STORAGE_RETRY, ...options.retry };
    this.client = createTableClient(options.connection, this.tableName, { retryOptions, attemptTimeoutMs });
  }

  /** Runs a storage call; what fails becomes an AuditStorageError naming the table. */
  async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof AuditStorageError) throw error;
      throw new AuditStorageError(operation, this.tableName, error);
    }
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
