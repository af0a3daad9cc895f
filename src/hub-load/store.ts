// The hub-load table on the audit's storage account (AUDIT_STORAGE_CONNECTION_STRING, else AzureWebJobsStorage):
// read the partition, write it in one transaction (at most 50 hubs, under the 100 operations of a transaction).
// Before the first timer run the table does not exist: that reads as no rows. Failures are StorageErrors.
import type { TableClient } from '@azure/data-tables';
import type { Settings } from '../settings';
import { storageConnectionFrom, type StorageConnection } from '../storage/connection';
import { createOnce, type CreateOnce } from '../storage/create-once';
import { isStorageStatus, storageCall } from '../storage/errors';
import { INTERACTIVE_STORAGE_RETRY, retryClientOptions, type StorageRetryOptions } from '../storage/retry';
import { submitBatch, type BatchAction } from '../storage/table-batch';
import { createTableClient } from '../storage/table-client';
import { DEFAULT_TABLE_PREFIX } from '../storage/table-names';
import { HUB_LOAD_PARTITION, hubLoadRows, hubLoadTableName, type HubLoadRow } from './table';

export interface HubLoadStoreOptions {
  connection: StorageConnection;
  /** AUDIT_TABLE_PREFIX; default `Audit`. */
  tablePrefix?: string;
  /** Default: the background retries of src/storage/retry.ts. */
  retry?: Partial<StorageRetryOptions>;
}

export class HubLoadStore {
  readonly tableName: string;
  readonly client: TableClient;
  private readonly tableReady: CreateOnce;

  constructor(options: HubLoadStoreOptions) {
    this.tableName = hubLoadTableName(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.client = createTableClient(options.connection, this.tableName, retryClientOptions(options.retry));
    this.tableReady = createOnce(() => this.call('createTable', () => this.client.createTable()));
  }

  /** Every hub's row; none before the table exists. */
  async readRows(signal?: AbortSignal): Promise<HubLoadRow[]> {
    return this.call('listEntities', async () => {
      const entities: unknown[] = [];
      try {
        const filter = `PartitionKey eq '${HUB_LOAD_PARTITION}'`;
        for await (const entity of this.client.listEntities({
          queryOptions: { filter },
          abortSignal: signal,
        })) {
          entities.push(entity);
        }
      } catch (error) {
        if (isStorageStatus(error, 404)) return [];
        throw error;
      }
      return hubLoadRows(entities);
    });
  }

  /** Upserts `rows` and deletes the rows of `removed` (row keys) in one transaction; creates the table first. */
  async write(rows: readonly HubLoadRow[], removed: readonly string[] = []): Promise<void> {
    const actions: BatchAction[] = [
      ...rows.map((row): BatchAction => ['upsert', row]),
      ...removed.map((rowKey): BatchAction => ['delete', { partitionKey: HUB_LOAD_PARTITION, rowKey }]),
    ];
    if (actions.length === 0) return;
    await this.tableReady();
    try {
      await this.call('submitTransaction', () => submitBatch(this.client, actions));
    } catch (error) {
      if (!isStorageStatus(error, 404)) throw error;
      // The table was deleted while this instance ran: create it again, once.
      this.tableReady.reset();
      await this.tableReady();
      await this.call('submitTransaction', () => submitBatch(this.client, actions));
    }
  }

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return storageCall(operation, this.tableName, run);
  }
}

/** The store of the app settings. */
export function hubLoadStoreFor(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  options: Omit<HubLoadStoreOptions, 'connection' | 'tablePrefix'> = {},
): HubLoadStore {
  const connection = storageConnectionFrom(settings.AUDIT_STORAGE_CONNECTION_STRING, env);
  return new HubLoadStore({ ...options, connection, tablePrefix: settings.AUDIT_TABLE_PREFIX });
}

const readStores = new Map<string, HubLoadStore>();

/** A store for reading while someone waits (CLI, HTTP): short retries; one per connection and prefix in a process. */
export function hubLoadReadStoreFor(settings: Settings, env: NodeJS.ProcessEnv): HubLoadStore {
  const connection = storageConnectionFrom(settings.AUDIT_STORAGE_CONNECTION_STRING, env);
  const key = JSON.stringify([connection, settings.AUDIT_TABLE_PREFIX]);
  let store = readStores.get(key);
  if (!store) {
    store = new HubLoadStore({
      connection,
      tablePrefix: settings.AUDIT_TABLE_PREFIX,
      retry: INTERACTIVE_STORAGE_RETRY,
    });
    readStores.set(key, store);
  }
  return store;
}
