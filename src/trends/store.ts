// The roll-up table's store, and the source tables it is counted from (the audit's history, allocate's decision
// log), on the app's storage connection (storage/connection.ts). Written in entity group transactions (one
// partition, <= 100 rows: storage/table-batch.ts); what the SDK's retries could not fix becomes a StorageError.
import { odata, type TableClient } from '@azure/data-tables';
import type { z } from 'zod';
import { auditStoreFor, type AuditStore } from '../audit/store';
import { decisionStoreFor, type DecisionStore } from '../decisions/store';
import type { Settings } from '../settings';
import { storageConnectionFrom, type StorageConnection } from '../storage/connection';
import { createOnce, type CreateOnce } from '../storage/create-once';
import { isStorageStatus, storageCall } from '../storage/errors';
import { INTERACTIVE_STORAGE_RETRY, retryClientOptions, type StorageRetryOptions } from '../storage/retry';
import { submitBatch } from '../storage/table-batch';
import { createTableClient } from '../storage/table-client';
import { DEFAULT_TABLE_PREFIX } from '../storage/table-names';
import { transactionsOf } from '../storage/transactions';
import {
  allocationTrendRowSchema,
  problemTrendRowSchema,
  trendsTableName,
  type AllocationTrendRow,
  type ProblemTrendRow,
  type TrendRow,
  type TrendsPartition,
} from './table';

export interface TrendsStoreOptions {
  connection: StorageConnection;
  /** AUDIT_TABLE_PREFIX; default `Audit`. */
  tablePrefix?: string;
  retry?: Partial<StorageRetryOptions>;
}

const ROW_SCHEMAS = { problems: problemTrendRowSchema, allocations: allocationTrendRowSchema } as const;
type RowOf<P extends TrendsPartition> = P extends 'problems' ? ProblemTrendRow : AllocationTrendRow;

export class TrendsStore {
  readonly tableName: string;
  readonly client: TableClient;
  private readonly tableReady: CreateOnce;
  private written = 0;

  constructor(options: TrendsStoreOptions) {
    this.tableName = trendsTableName(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.client = createTableClient(options.connection, this.tableName, retryClientOptions(options.retry));
    this.tableReady = createOnce(() => this.call('createTable', () => this.client.createTable()));
  }

  /** Roll-up rows written through this store so far. */
  get rowsWritten(): number {
    return this.written;
  }

  call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return storageCall(operation, this.tableName, run);
  }

  /** The rows of one partition from `from` to `to` (days, inclusive), by day; none before the table exists. */
  async rows<P extends TrendsPartition>(
    partition: P,
    from: string,
    to: string,
  ): Promise<Map<string, RowOf<P>>> {
    const rows = new Map<string, RowOf<P>>();
    const filter = odata`PartitionKey eq ${partition} and RowKey ge ${from} and RowKey le ${to}`;
    const pages = this.client.listEntities({ queryOptions: { filter } }).byPage({ maxPageSize: 1000 });
    try {
      for (;;) {
        const page = await this.call('listEntities', () => pages.next());
        if (page.done) return rows;
        for (const entity of page.value) {
          const parsed = (ROW_SCHEMAS[partition] as unknown as z.ZodType<RowOf<P>>).safeParse(entity);
          if (parsed.success) rows.set(parsed.data.rowKey, parsed.data);
        }
      }
    } catch (error) {
      if (isStorageStatus(error, 404)) return rows;
      throw error;
    }
  }

  /** Upserts rows (replacing each whole), creating the table first if this process has not yet. */
  async write(rows: readonly TrendRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.tableReady();
    for (const transaction of transactionsOf(rows, (row) => row.partitionKey)) {
      await this.call('submitTransaction', () =>
        submitBatch(
          this.client,
          transaction.map((row) => ['upsert', row] as const),
        ),
      );
      this.written += transaction.length;
    }
  }
}

/** Where the roll-up is read from and counted from. */
export interface TrendsSources {
  trends: TrendsStore;
  /** The audit's tables (history). */
  audit: AuditStore;
  decisions: DecisionStore;
}

const stores = new Map<string, TrendsStore>();

/**
 * The stores of the app settings; one roll-up store per connection, prefix and use in a process. `refresh` (after
 * a scan) retries storage patiently; `reads` (the HTTP API, the CLI) report an outage in seconds.
 */
export function trendsSourcesFor(
  settings: Settings,
  env: NodeJS.ProcessEnv = process.env,
  use: 'refresh' | 'reads' = 'refresh',
): TrendsSources {
  const connection = storageConnectionFrom(settings.AUDIT_STORAGE_CONNECTION_STRING, env);
  const key = JSON.stringify([connection, settings.AUDIT_TABLE_PREFIX, use]);
  let trends = stores.get(key);
  if (!trends) {
    trends = new TrendsStore({
      connection,
      tablePrefix: settings.AUDIT_TABLE_PREFIX,
      retry: use === 'reads' ? INTERACTIVE_STORAGE_RETRY : undefined,
    });
    stores.set(key, trends);
  }
  return {
    trends,
    audit: auditStoreFor(settings, env, use === 'reads' ? 'reads' : 'scan'),
    decisions: decisionStoreFor(settings, env),
  };
}
