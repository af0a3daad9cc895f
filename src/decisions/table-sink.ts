// Where the decision writer's transactions go: the decision table, written as the audit writes its own tables
// (storage/table-batch.ts: one $batch body through the TableClient's pipeline), with the SDK's retries off (the
// writer backs off itself; SDK retries would hold its queue for a minute) and each call abandoned when the
// writer's timeout aborts it.
// The table is created on first use and again if it disappears.
import type { TableClient } from '@azure/data-tables';
import type { Settings } from '../settings';
import { storageConnectionFrom } from '../storage/connection';
import { createOnce, type CreateOnce } from '../storage/create-once';
import { isStorageStatus } from '../storage/errors';
import { submitBatch, type BatchAction } from '../storage/table-batch';
import { createTableClient } from '../storage/table-client';
import { decisionsTableName, type DecisionRow } from './table';
import type { DecisionSink } from './writer';

/** A createTable that hangs is given up after this, so that a later write tries again. */
const CREATE_TABLE_TIMEOUT_MS = 10_000;

export class TableDecisionSink implements DecisionSink {
  readonly target: string;
  private readonly tableReady: CreateOnce;

  constructor(private readonly client: TableClient) {
    const url = new URL(client.url);
    this.target = `${url.protocol}//${url.host}${url.pathname}`.replace(/\/$/, '') + `/${client.tableName}`;
    this.tableReady = createOnce(() =>
      this.client.createTable({ abortSignal: AbortSignal.timeout(CREATE_TABLE_TIMEOUT_MS) }),
    );
  }

  /** Creates the table (an existing one is fine); once, unless it failed. Starting it early saves the first write a round trip. */
  prepare(): Promise<void> {
    return this.tableReady();
  }

  async write(rows: readonly DecisionRow[], signal: AbortSignal): Promise<void> {
    await this.prepare();
    const actions: BatchAction[] = rows.map((row) => ['upsert', row]);
    try {
      await submitBatch(this.client, actions, { abortSignal: signal });
    } catch (error) {
      if (!isStorageStatus(error, 404)) throw error;
      // The table was deleted while this instance ran: create it again, once.
      this.tableReady.reset();
      await this.prepare();
      await submitBatch(this.client, actions, { abortSignal: signal });
    }
  }
}

/**
 * The sink on the audit's storage (AUDIT_STORAGE_CONNECTION_STRING, else AzureWebJobsStorage). Throws
 * ConfigurationError when no storage is configured.
 */
export function openDecisionSink(settings: Settings, env: NodeJS.ProcessEnv): TableDecisionSink {
  const connection = storageConnectionFrom(settings.AUDIT_STORAGE_CONNECTION_STRING, env);
  const client = createTableClient(connection, decisionsTableName(settings.AUDIT_TABLE_PREFIX), {
    retryOptions: { maxRetries: 0 },
  });
  return new TableDecisionSink(client);
}
