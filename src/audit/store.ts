// The audit's table store on @azure/data-tables: one TableClient per table, tables created once, batched writes
// (entity group transactions: one partition, at most 100 entities; table-batch.ts sends them) and typed errors.
// Transient storage errors (5xx, 408, timeouts, refused or reset connections, attempts without an answer) are
// retried with exponential backoff by the SDK's own retry policy; what still fails becomes an AuditStorageError.
import type { TableClient } from '@azure/data-tables';
import type { z } from 'zod';
import { redactSecrets } from '../dps/redact';
import { DEFAULT_ATTEMPT_TIMEOUT_MS } from './attempt-timeout';
import { createTableClient, sharedCredential, type StorageConnection } from './connection';
import { submitBatch } from './table-batch';
import { auditTableNames, type AuditTableNames } from './tables';

export type AuditTable = keyof AuditTableNames;

export interface StorageRetryOptions {
  maxRetries: number;
  retryDelayInMs: number;
  maxRetryDelayInMs: number;
  /** Each attempt of a request is given up after this (attempt-timeout.ts), then retried. */
  attemptTimeoutMs: number;
}

export const defaultStorageRetry: StorageRetryOptions = {
  maxRetries: 5,
  retryDelayInMs: 500,
  maxRetryDelayInMs: 10_000,
  attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS,
};

/** For a person waiting (CLI, decision reads): an outage is reported within seconds, not minutes. */
export const INTERACTIVE_STORAGE_RETRY: StorageRetryOptions = {
  maxRetries: 2,
  retryDelayInMs: 200,
  maxRetryDelayInMs: 1_000,
  attemptTimeoutMs: 5_000,
};

export interface AuditStoreOptions {
  connection: StorageConnection;
  /** AUDIT_TABLE_PREFIX; default `Audit`. */
  tablePrefix?: string;
  retry?: Partial<StorageRetryOptions>;
}

/** A storage call that failed after the SDK's retries. */
export class AuditStorageError extends Error {
  override name = 'AuditStorageError';
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(operation: string, table: string, cause: unknown) {
    const details = cause as { statusCode?: number; code?: string; message?: string };
    const reason = redactSecrets(String(details?.message ?? cause)).slice(0, 500);
    super(`Table storage ${operation} on ${table} failed: ${reason}`, { cause });
    this.status = details?.statusCode;
    this.code = details?.code;
  }
}

/** Whether a storage error is the given HTTP status (404, 409, 412...). */
export function isStorageStatus(error: unknown, status: number): boolean {
  const found =
    error instanceof AuditStorageError ? error.status : (error as { statusCode?: number })?.statusCode;
  return found === status;
}

export interface Row {
  partitionKey: string;
  rowKey: string;
}

export type RowAction = ['upsert', Row] | ['delete', Row];

/** Entity group transactions hold at most 100 operations (and 4 MiB: rows here are a few KiB at most). */
const MAX_TRANSACTION = 100;

/** Splits actions into transactions: grouped by partition, in order, at most 100 each. */
export function transactionsOf(actions: readonly RowAction[]): RowAction[][] {
  const byPartition = new Map<string, RowAction[]>();
  for (const action of actions) {
    const partition = action[1].partitionKey;
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    list.push(action);
  }
  const transactions: RowAction[][] = [];
  for (const list of byPartition.values()) {
    for (let i = 0; i < list.length; i += MAX_TRANSACTION)
      transactions.push(list.slice(i, i + MAX_TRANSACTION));
  }
  return transactions;
}

export class AuditStore {
  readonly names: AuditTableNames;
  private readonly clients: Record<AuditTable, TableClient>;
  private ready: Promise<void> | undefined;
  private written = 0;

  constructor(options: AuditStoreOptions) {
    this.names = auditTableNames(options.tablePrefix ?? 'Audit');
    const { attemptTimeoutMs, ...retryOptions } = { ...defaultStorageRetry, ...options.retry };
    const clientOptions = { retryOptions, attemptTimeoutMs };
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
    this.ready ??= Promise.all(
      (Object.keys(this.clients) as AuditTable[]).map((table) =>
        this.call('createTable', table, () => this.clients[table].createTable()),
      ),
    ).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    );
    return this.ready;
  }

  /** Runs a storage call, turning what the SDK could not retry into an AuditStorageError. */
  async call<T>(operation: string, table: AuditTable, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof AuditStorageError) throw error;
      throw new AuditStorageError(operation, this.names[table], error);
    }
  }

  /** Writes rows in transactions (one partition, <= 100 each); partitions are written concurrently. */
  async write(table: AuditTable, actions: readonly RowAction[]): Promise<void> {
    if (actions.length === 0) return;
    const client = this.clients[table];
    await Promise.all(
      transactionsOf(actions).map(async (transaction) => {
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
