// The decision log's writer: a group commit in front of table storage. record() queues a row and settles when the
// row is written or when `maxWaitMs` has passed, whichever is first; it never rejects, so a storage problem can
// cost an allocation at most that bound. While a write is in flight, new rows queue and go together in the next
// one (transactions of one partition, at most 100 rows, upserts: a retried transaction writes the same rows).
// When storage fails, rows stay queued and are retried in the background with backoff. During a known outage, and
// while a write has been in flight for longer than the bound (storage hanging or slow), record() settles at once
// ('deferred') instead of waiting for a write that cannot come in time. The queue is bounded:
// past `maxQueue` the oldest rows are dropped and counted. One warning per outage, one line when it ends.
import { IdleWaiters } from '../concurrency/idle-waiters';
import { OutageRetry } from '../concurrency/outage-retry';
import { attemptWithin, waitUntil } from '../concurrency/time-limit';
import { redactSecrets } from '../dps/redact';
import { transactionsOf } from '../storage/transactions';
import type { DecisionRow } from './table';

/**
 * How record() settled. written: the row is stored. timed-out: not written within maxWaitMs (still queued).
 * deferred: storage is known to be failing or slower than the bound, or waiting is off; the row stays queued.
 * dropped: the queue was full and this row was among the oldest. skipped: the log is off or closed.
 */
export type RecordOutcome = 'written' | 'timed-out' | 'deferred' | 'dropped' | 'skipped';

export interface DecisionRecorder {
  /** Queues the row; settles by the bound, never rejects. */
  record(row: DecisionRow): Promise<RecordOutcome>;
  /** Writes what is queued (for at most `timeoutMs`), then stops; later records are skipped. */
  close(timeoutMs?: number): Promise<void>;
}

export interface DecisionSink {
  /** Where rows go, for messages (no secrets): e.g. the table URL. */
  readonly target: string;
  /** One transaction: rows of one partition, at most 100, upserted. Should give up when `signal` aborts. */
  write(rows: readonly DecisionRow[], signal: AbortSignal): Promise<void>;
}

/** Where the writer reports outages, drops and recoveries: a few lines per outage, never one per decision. */
export interface DecisionNotices {
  info(message: string): void;
  warn(message: string): void;
}

export interface DecisionWriterOptions {
  /** DECISION_LOG_MAX_WAIT_MS: longest record() waits for its row. 0: never waits. */
  maxWaitMs: number;
  /** DECISION_LOG_MAX_QUEUE: rows held while storage is away; the oldest beyond it are dropped. */
  maxQueue: number;
  notices: DecisionNotices;
  /** A write that has not answered by then counts as failed (a hanging connection). Default 5,000 ms. */
  writeTimeoutMs?: number;
  /** Backoff between retries while storage fails: doubles from the first to the most. Default 250 ms to 30 s. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Rows taken into one flush (its transactions run concurrently). Default 1,000. */
  maxRowsPerFlush?: number;
}

export interface DecisionWriterStats {
  queued: number;
  written: number;
  dropped: number;
  transactions: number;
  failedTransactions: number;
  /** Whether storage is failing now (between the first failure and the next success). */
  failing: boolean;
}

interface Waiter {
  timer: NodeJS.Timeout;
  resolve(outcome: RecordOutcome): void;
}

interface Entry {
  row: DecisionRow;
  waiter?: Waiter;
}

function describeError(error: unknown): string {
  const details = error as { name?: string; code?: string; statusCode?: number; message?: string };
  const what =
    details?.code ?? (details?.statusCode === undefined ? undefined : `HTTP ${details.statusCode}`);
  const message = String(details?.message ?? error).replace(/\s+/g, ' ');
  return redactSecrets(what && !message.includes(what) ? `${what}: ${message}` : message).slice(0, 300);
}

/** An error that says the rows themselves are unacceptable (bad entity, too large), not that storage is away. */
function isRowRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown; status?: unknown } | null)?.statusCode;
  return status === 400 || status === 413;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class DecisionWriter implements DecisionRecorder {
  private readonly maxWaitMs: number;
  private readonly maxQueue: number;
  private readonly notices: DecisionNotices;
  private readonly writeTimeoutMs: number;
  private readonly maxRowsPerFlush: number;

  private queue: Entry[] = [];
  /** The flush in flight, if any. */
  private flushing: Promise<void> | undefined;
  private flushScheduled = false;
  private closed = false;
  /** Backoff, and the outage from the first failed write to the next successful one. */
  private readonly retry: OutageRetry;
  /** Rows in the write in flight, and when it started. */
  private inFlightRows = 0;
  private flushStartedAt = 0;
  /** Dropped rows not reported yet (a full queue without an outage is reported once it drains). */
  private unreportedDrops = 0;
  private readonly idle = new IdleWaiters();
  private readonly counts = { written: 0, dropped: 0, transactions: 0, failedTransactions: 0 };

  constructor(
    private readonly sink: DecisionSink,
    options: DecisionWriterOptions,
  ) {
    this.maxWaitMs = options.maxWaitMs;
    this.maxQueue = options.maxQueue;
    this.notices = options.notices;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 5_000;
    this.retry = new OutageRetry({
      initialMs: options.retryInitialMs ?? 250,
      maxMs: options.retryMaxMs ?? 30_000,
      retry: () => void this.flush(),
    });
    this.maxRowsPerFlush = options.maxRowsPerFlush ?? 1_000;
  }

  stats(): DecisionWriterStats {
    return { queued: this.queue.length, ...this.counts, failing: this.retry.failing };
  }

  record(row: DecisionRow): Promise<RecordOutcome> {
    if (this.closed) return Promise.resolve('skipped');
    const entry: Entry = { row };
    this.queue.push(entry);
    this.trimQueue();
    if (this.maxWaitMs === 0 || this.retry.failing || this.writeIsSlow()) {
      this.scheduleFlush();
      return Promise.resolve('deferred');
    }
    const promise = new Promise<RecordOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(entry, 'timed-out'), this.maxWaitMs);
      entry.waiter = { timer, resolve };
    });
    this.scheduleFlush();
    return promise;
  }

  /** Resolves once nothing is queued or in flight (for tests, benchmarks and shutdown). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return this.idle.wait();
  }

  async close(timeoutMs = 2_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retry.cancel();
    const deadline = Date.now() + timeoutMs;
    // Final attempts while time is left: a failing store gets one more try, not a backoff.
    // A write already in flight is waited for too: its rows have left the queue but are not written yet.
    while ((this.queue.length > 0 || this.flushing) && Date.now() < deadline) {
      const before = this.counts.failedTransactions;
      await waitUntil(this.flushing ?? this.flush(), deadline);
      if (this.counts.failedTransactions > before || this.flushing) break;
    }
    this.retry.cancel();
    const left = this.queue.length + this.inFlightRows;
    for (const entry of this.queue.splice(0)) this.settle(entry, 'skipped');
    if (left > 0 || this.unreportedDrops > 0 || this.retry.failing) {
      this.notices.warn(
        `Decision log closed with ${left} decision row(s) not written` +
          (this.unreportedDrops > 0 ? ` and ${this.unreportedDrops} dropped` : '') +
          ` (target ${this.sink.target}).`,
      );
    }
    this.notifyIdle();
  }

  /**
   * Whether the write in flight has already taken longer than the bound: storage is hanging or slow, and a row
   * queued behind it would not be written in time either, so its allocation does not wait.
   */
  private writeIsSlow(): boolean {
    return this.flushing !== undefined && Date.now() - this.flushStartedAt > this.maxWaitMs;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing || this.retry.failing) return;
    this.flushScheduled = true;
    // A microtask: records made in the same turn (a burst) share one write.
    queueMicrotask(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private settle(entry: Entry, outcome: RecordOutcome): void {
    const waiter = entry.waiter;
    if (!waiter) return;
    entry.waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.resolve(outcome);
  }

  private trimQueue(): void {
    const excess = this.queue.length - this.maxQueue;
    if (excess <= 0) return;
    const dropped = this.queue.splice(0, excess);
    for (const entry of dropped) this.settle(entry, 'dropped');
    this.counts.dropped += excess;
    if (this.unreportedDrops === 0) {
      this.notices.warn(
        `Decision log: ${this.maxQueue} decision rows are waiting for table storage (DECISION_LOG_MAX_QUEUE); ` +
          'dropping the oldest until it catches up. The count is logged when it does.',
      );
    }
    this.unreportedDrops += excess;
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0) {
      this.notifyIdle();
      return Promise.resolve();
    }
    this.flushing = this.writeBatch().finally(() => {
      this.flushing = undefined;
      this.afterFlush();
    });
    return this.flushing;
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.maxRowsPerFlush);
    const transactions = transactionsOf(batch, (entry) => entry.row.partitionKey);
    this.inFlightRows = batch.length;
    this.flushStartedAt = Date.now();
    const errors = await Promise.all(transactions.map((transaction) => this.writeTransaction(transaction)));
    const failed = new Set<Entry>();
    let lastError: unknown;
    const refused: Entry[][] = [];
    transactions.forEach((transaction, index) => {
      this.counts.transactions++;
      const error = errors[index];
      if (error === undefined) {
        this.counts.written += transaction.length;
        for (const entry of transaction) this.settle(entry, 'written');
      } else if (isRowRefusal(error)) {
        refused.push(transaction);
      } else {
        this.counts.failedTransactions++;
        lastError = error;
        for (const entry of transaction) failed.add(entry);
      }
    });
    // Storage refused a transaction for what is in it (400, 413): one bad row must not hold the others back
    // forever, so they are written one by one and only a row refused on its own is dropped (and logged).
    for (const transaction of refused) {
      for (const entry of transaction) {
        const error = await this.writeTransaction([entry]);
        if (error === undefined) {
          this.counts.written++;
          this.settle(entry, 'written');
        } else if (isRowRefusal(error)) {
          this.refuse(entry, error);
        } else {
          lastError = error;
          failed.add(entry);
        }
      }
    }
    this.inFlightRows = 0;
    if (failed.size > 0) {
      // Back to the front, in their order: they are the oldest rows.
      this.queue.unshift(...batch.filter((entry) => failed.has(entry)));
      this.trimQueue();
      this.failed(lastError);
    } else {
      this.succeeded();
    }
  }

  private refuse(entry: Entry, error: unknown): void {
    this.counts.dropped++;
    this.settle(entry, 'dropped');
    this.notices.warn(
      `Decision log: table storage refused the row of '${entry.row.registrationId ?? ''}' at ` +
        `${entry.row.at.toISOString()} (${describeError(error)}); it is dropped, the other rows are written.`,
    );
  }

  private afterFlush(): void {
    if (!this.closed && !this.retry.failing && this.queue.length > 0) this.scheduleFlush();
    this.notifyIdle();
  }

  /** undefined when written; the error otherwise. A write that outlives writeTimeoutMs is abandoned. */
  private writeTransaction(entries: readonly Entry[]): Promise<unknown> {
    return attemptWithin(this.writeTimeoutMs, (signal) =>
      this.sink.write(
        entries.map((entry) => entry.row),
        signal,
      ),
    );
  }

  private failed(error: unknown): void {
    // After close() the closing notice says what was left.
    if (this.retry.failed(this.closed) && !this.closed) {
      this.notices.warn(
        `Decision log: cannot write to ${this.sink.target} (${describeError(error)}); ` +
          `${this.queue.length} decision row(s) queued and retried in the background. Allocation goes on.`,
      );
    }
    // The rows waiting settle now: during an outage allocations do not wait (the rows stay queued).
    for (const entry of this.queue) this.settle(entry, 'deferred');
  }

  private succeeded(): void {
    const outageMs = this.retry.succeeded();
    if (outageMs === undefined) return;
    this.notices.info(
      `Decision log: writing to ${this.sink.target} again after ${seconds(outageMs)}; ` +
        `${this.queue.length} queued row(s) follow` +
        (this.unreportedDrops > 0
          ? `; ${this.unreportedDrops} row(s) were dropped (queue full).`
          : '; none lost.'),
    );
    this.unreportedDrops = 0;
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.flushing === undefined;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    if (this.unreportedDrops > 0 && !this.retry.failing && !this.closed) {
      this.notices.warn(
        `Decision log: dropped ${this.unreportedDrops} decision row(s) while the queue was full.`,
      );
      this.unreportedDrops = 0;
    }
    this.idle.notify();
  }
}
