// The audit's table store on @azure/data-tables: one TableClient per table, tables created once, batched writes
// (entity group transactions: one partition, at most 100 entities; table-batch.ts sends them) and typed errors.
// Transient storage errors (5xx, 408, timeouts, refused or reset connections, attempts without an answer) are
// retried with exponential backoff by the SDK's own retry policy; what still fails becomes a StorageError.
import type { TableClient } from '@azure/data-tables';
import type { z } from 'zod';
import type { Settings } from '../settings';
import { storageConnectionFrom, type StorageConnection } from '../storage/connection';
import { createOnce, type CreateOnce } from '../storage/create-once';
import { storageCall } from '../storage/errors';
import { INTERACTIVE_STORAGE_RETRY, retryClientOptions, type StorageRetryOptions } from '../storage/retry';
import { submitBatch } from '../storage/table-batch';
import { createTableClient, sharedCredential } from '../storage/table-client';
import { DEFAULT_TABLE_PREFIX } from '../storage/table-names';
import { transactionsOf } from '../storage/transactions';
import { auditTableNames, type AuditTableNames } from './rows/tables';

export type AuditTable = keyof AuditTableNames;

export interface AuditStoreOptions {
  connection: StorageConnection;
  /** AUDIT_TABLE_PREFIX; default `Audit`. */
  tablePrefix?: string;
  retry?: Partial<StorageRetryOptions>;
}

export interface Row {
  partitionKey: string;
  rowKey: string;
}

export type RowAction = ['upsert', Row] | ['delete', Row];

export class AuditStore {
  readonly names: AuditTableNames;
  private readonly clients: Record<AuditTable, TableClient>;
  private readonly tablesReady: CreateOnce;
  private written = 0;

  constructor(options: AuditStoreOptions) {
    this.names = auditTableNames(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    const clientOptions = retryClientOptions(options.retry);
    const credential = sharedCredential(options.connection);
    const client = (table: AuditTable) =>
      createTableClient(options.connection, this.names[table], clientOptions, credential);
    this.clients = {
      problems: client('problems'),
      history: client('history'),
      findings: client('findings'),
      scans: client('scans'),
      state: client('state'),
    };
    this.tablesReady = createOnce(() =>
      Promise.all(
        (Object.keys(this.clients) as AuditTable[]).map((table) =>
          this.call('createTable', table, () => this.clients[table].createTable()),
        ),
      ),
    );
  }

  /** Entities written (upserted or deleted) through this store so far. */
  get entitiesWritten(): number {
    return this.written;
  }

  /** The client of a table, for the checkpoint and the read functions. */
  client(table: AuditTable): TableClient {
    return this.clients[table];
  }

  /** Creates the tables that do not exist yet; once per store (a failure is retried on the next call). */
  ensureTables(): Promise<void> {
    return this.tablesReady();
  }

  /** Runs a storage call, turning what the SDK could not retry into a StorageError. */
  call<T>(operation: string, table: AuditTable, run: () => Promise<T>): Promise<T> {
    return storageCall(operation, this.names[table], run);
  }

  /** Writes rows in transactions (one partition, <= 100 each); partitions are written concurrently. */
  async write(table: AuditTable, actions: readonly RowAction[]): Promise<void> {
    if (actions.length === 0) return;
    const client = this.clients[table];
    await Promise.all(
      transactionsOf(actions, (action) => action[1].partitionKey).map(async (transaction) => {
        await this.call('submitTransaction', table, () => submitBatch(client, transaction));
        this.written += transaction.length;
      }),
    );
  }

  upsert(table: AuditTable, rows: readonly Row[]): Promise<void> {
    return this.write(
      table,
      rows.map((row): RowAction => ['upsert', row]),
    );
  }

  /** Rows matching an OData filter (build it with the `odata` template), parsed; malformed rows are skipped. */
  async *rows<S extends z.ZodType>(
    table: AuditTable,
    schema: S,
    filter?: string,
  ): AsyncGenerator<z.infer<S>> {
    const client = this.clients[table];
    const pages = client
      .listEntities(filter ? { queryOptions: { filter } } : {})
      .byPage({ maxPageSize: 1000 });
    for (;;) {
      const page = await this.call('listEntities', table, () => pages.next());
      if (page.done) return;
      for (const entity of page.value) {
        const parsed = schema.safeParse(entity);
        if (parsed.success) yield parsed.data;
      }
    }
  }

  /** Rows by RowKey, e.g. one partition's problems. */
  async rowMap<S extends z.ZodType<Row>>(
    table: AuditTable,
    schema: S,
    filter: string,
  ): Promise<Map<string, z.infer<S>>> {
    const map = new Map<string, z.infer<S>>();
    for await (const row of this.rows(table, schema, filter)) map.set(row.rowKey, row);
    return map;
  }
}

const stores = new Map<string, AuditStore>();

/**
 * The audit's table store; one per connection, prefix and use in a process, so tables are created once. A scan
 * retries storage patiently; `reads` (the HTTP API a person or the dashboard waits on) report an outage in seconds.
 */
export function auditStoreFor(
  settings: Settings,
  env: NodeJS.ProcessEnv = process.env,
  use: 'scan' | 'reads' = 'scan',
): AuditStore {
  const connection = storageConnectionFrom(settings.AUDIT_STORAGE_CONNECTION_STRING, env);
  const key = JSON.stringify([connection, settings.AUDIT_TABLE_PREFIX, use]);
  let store = stores.get(key);
  if (!store) {
    store = new AuditStore({
      connection,
      tablePrefix: settings.AUDIT_TABLE_PREFIX,
      retry: use === 'reads' ? INTERACTIVE_STORAGE_RETRY : undefined,
    });
    stores.set(key, store);
  }
  return store;
}
