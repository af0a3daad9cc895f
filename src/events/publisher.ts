// Publishes lifecycle events in the background, modelled on the decision log's writer (src/decisions/writer.ts):
// publish() queues and returns at once, never throws; a sender takes batches (at most 500 events and 1,000,000
// bytes, docs/events-contract.md §2.3) to the sink. When the topic fails, events stay queued and are retried with
// jittered, capped backoff; a batch the topic refuses for its content (400, 413) is split in halves until only the
// refused event is dropped. The queue is bounded: past `maxQueue` the oldest events are dropped and counted.
// One warning per outage, one line when it ends. Delivery is at least once: a send that timed out after the topic
// took it is sent again, with the same ids (subscribers de-duplicate by source + id, §1, §3).
import { IdleWaiters } from '../concurrency/idle-waiters';
import { OutageRetry } from '../concurrency/outage-retry';
import { attemptWithin, waitUntil } from '../concurrency/time-limit';
import { redactSecrets } from '../dps/redact';
import type { LifecycleEvent } from './catalog';

export interface EventSink {
  /** Where events go, for messages (no secrets): the topic endpoint. */
  readonly target: string;
  /** One send of a batch; should give up when `signal` aborts. Rejects with `statusCode` for an HTTP error. */
  send(events: readonly LifecycleEvent[], signal: AbortSignal): Promise<void>;
}

export interface EventNotices {
  info(message: string): void;
  warn(message: string): void;
}

export interface PublisherStats {
  /** Waiting or being sent. */
  queued: number;
  sent: number;
  dropped: number;
  /** Whether the topic is failing now (between the first failed send and the next success). */
  failing: boolean;
}

export interface EventPublisher {
  /** CloudEvents `source` of this publisher's events (EVENTS_SOURCE). */
  readonly source: string;
  /** False when events go nowhere (no topic): callers then skip building them. */
  readonly enabled: boolean;
  /** Queues the events; returns at once and never throws. */
  publish(events: readonly LifecycleEvent[]): void;
  /** Resolves when nothing is queued or in flight, or after `timeoutMs`; never rejects. */
  flush(timeoutMs?: number): Promise<void>;
  /** Sends what is queued for at most `timeoutMs`, then stops; later publishes are ignored. */
  close(timeoutMs?: number): Promise<void>;
  stats(): PublisherStats;
}

export interface PublisherOptions {
  source: string;
  /** EVENTS_MAX_QUEUE. */
  maxQueue: number;
  notices: EventNotices;
  /** A send not answered by then counts as failed. Default 5,000 ms. */
  sendTimeoutMs?: number;
  /** Backoff while the topic fails: doubles from the first to the most, ±20 %. Default 250 ms to 30 s. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  maxBatchEvents?: number;
  maxBatchBytes?: number;
}

interface Entry {
  event: LifecycleEvent;
  bytes: number;
}

/** A publisher that publishes nothing (no EVENTS_TOPIC_ENDPOINT). */
export function noopPublisher(source: string): EventPublisher {
  return {
    source,
    enabled: false,
    publish: () => undefined,
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    stats: () => ({ queued: 0, sent: 0, dropped: 0, failing: false }),
  };
}

function describeError(error: unknown): string {
  const details = error as { code?: string; statusCode?: number; message?: string } | null;
  const what = [details?.statusCode === undefined ? undefined : `HTTP ${details.statusCode}`, details?.code]
    .filter((part): part is string => part !== undefined)
    .join(' ');
  const message = String(details?.message ?? error).replace(/\s+/g, ' ');
  return redactSecrets(what && !message.includes(what) ? `${what}: ${message}` : message).slice(0, 300);
}

/** The topic refused the batch for what is in it (docs/events-contract.md §2.3), not because it is away. */
function isContentRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return status === 400 || status === 413;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class BackgroundPublisher implements EventPublisher {
  readonly source: string;
  readonly enabled = true;
  private readonly maxQueue: number;
  private readonly notices: EventNotices;
  private readonly sendTimeoutMs: number;
  private readonly maxBatchEvents: number;
  private readonly maxBatchBytes: number;

  private queue: Entry[] = [];
  private inFlight = 0;
  private running: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private readonly retry: OutageRetry;
  private unreportedDrops = 0;
  private readonly idle = new IdleWaiters();
  private readonly counts = { sent: 0, dropped: 0 };

  constructor(
    private readonly sink: EventSink,
    options: PublisherOptions,
  ) {
    this.source = options.source;
    this.maxQueue = options.maxQueue;
    this.notices = options.notices;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 5_000;
    this.retry = new OutageRetry({
      initialMs: options.retryInitialMs ?? 250,
      maxMs: options.retryMaxMs ?? 30_000,
      retry: () => void this.run(),
    });
    this.maxBatchEvents = options.maxBatchEvents ?? 500;
    this.maxBatchBytes = options.maxBatchBytes ?? 1_000_000;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  stats(): PublisherStats {
    return {
      queued: this.queue.length + this.inFlight,
      ...this.counts,
      failing: this.retry.failing,
    };
  }

  publish(events: readonly LifecycleEvent[]): void {
    try {
      if (this.closed || events.length === 0) return;
      for (const event of events) {
        this.queue.push({ event, bytes: Buffer.byteLength(JSON.stringify(event)) });
      }
      this.trimQueue();
      this.schedule();
    } catch (error) {
      this.notices.warn(`Events: not queued (${describeError(error)}).`);
    }
  }

  flush(timeoutMs = 5_000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return this.idle.wait(timeoutMs);
  }

  async close(timeoutMs = 2_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retry.cancel();
    const deadline = Date.now() + timeoutMs;
    // Final attempts while time is left: a failing topic gets one more try, not a backoff.
    while ((this.queue.length > 0 || this.running) && Date.now() < deadline) {
      const failuresBefore = this.retry.failures;
      await waitUntil(this.running ?? this.run(), deadline);
      if (this.retry.failures > failuresBefore || this.running) break;
    }
    this.retry.cancel();
    const left = this.queue.length + this.inFlight;
    this.queue = [];
    if (left > 0 || this.unreportedDrops > 0) {
      this.notices.warn(
        `Events: closed with ${left} event(s) not published` +
          (this.unreportedDrops > 0 ? ` and ${this.unreportedDrops} dropped (queue full)` : '') +
          ` (topic ${this.sink.target}).`,
      );
      this.unreportedDrops = 0;
    }
    this.notifyIdle(true);
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.retry.failing) return;
    this.scheduled = true;
    // A microtask: events published in the same turn go in one send.
    queueMicrotask(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private run(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.sendAll().finally(() => {
      this.running = undefined;
      this.notifyIdle();
    });
    return this.running;
  }

  private async sendAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight = batch.length;
      const { undelivered, error } = await this.deliver(batch);
      this.inFlight = 0;
      if (error !== undefined) {
        // Back to the front, in order: they are the oldest.
        this.queue.unshift(...undelivered);
        this.trimQueue();
        this.failed(error);
        return;
      }
      this.succeeded();
    }
  }

  private takeBatch(): Entry[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < this.maxBatchEvents) {
      const next = this.queue[count]?.bytes ?? 0;
      if (count > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      count++;
    }
    return this.queue.splice(0, count);
  }

  /** Sends the batch; a content refusal is bisected. Returns what is left to retry and why. */
  private async deliver(batch: Entry[]): Promise<{ undelivered: Entry[]; error?: unknown }> {
    const error = await this.send(batch);
    if (error === undefined) {
      this.counts.sent += batch.length;
      return { undelivered: [] };
    }
    if (!isContentRefusal(error)) return { undelivered: batch, error };
    const [only] = batch;
    if (batch.length === 1 && only) {
      this.refuse(only, error);
      return { undelivered: [] };
    }
    const middle = Math.ceil(batch.length / 2);
    const first = await this.deliver(batch.slice(0, middle));
    if (first.error !== undefined) {
      return { undelivered: [...first.undelivered, ...batch.slice(middle)], error: first.error };
    }
    return this.deliver(batch.slice(middle));
  }

  /** undefined when sent; the error otherwise. A send that outlives sendTimeoutMs is abandoned. */
  private send(batch: readonly Entry[]): Promise<unknown> {
    return attemptWithin(this.sendTimeoutMs, (signal) =>
      this.sink.send(
        batch.map((entry) => entry.event),
        signal,
      ),
    );
  }

  private refuse(entry: Entry, error: unknown): void {
    this.counts.dropped++;
    // Type and id only: data may name devices, and the subscriber side has no use for it in a log.
    this.notices.warn(
      `Events: the topic refused event ${entry.event.type} ${entry.event.id} (${describeError(error)}); ` +
        'it is dropped, the others are published.',
    );
  }

  private trimQueue(): void {
    const excess = this.queue.length + this.inFlight - this.maxQueue;
    if (excess <= 0) return;
    const dropping = Math.min(excess, this.queue.length);
    this.queue.splice(0, dropping);
    this.counts.dropped += dropping;
    if (this.unreportedDrops === 0 && dropping > 0) {
      this.notices.warn(
        `Events: ${this.maxQueue} events are waiting for the topic (EVENTS_MAX_QUEUE); dropping the oldest ` +
          'until it catches up. The count is logged when it does.',
      );
    }
    this.unreportedDrops += dropping;
  }

  private failed(error: unknown): void {
    const outageBegins = this.retry.failed(this.closed);
    if (outageBegins && !this.closed) {
      this.notices.warn(
        `Events: cannot publish to ${this.sink.target} (${describeError(error)}); ` +
          `${this.queue.length} event(s) queued and retried in the background.`,
      );
    }
  }

  private succeeded(): void {
    const outageMs = this.retry.succeeded();
    if (outageMs === undefined) return;
    this.notices.info(
      `Events: publishing to ${this.sink.target} again after ${seconds(outageMs)}; ` +
        `${this.queue.length} queued event(s) follow` +
        (this.unreportedDrops > 0
          ? `; ${this.unreportedDrops} event(s) were dropped (queue full).`
          : '; none lost.'),
    );
    this.unreportedDrops = 0;
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.running === undefined;
  }

  private notifyIdle(force = false): void {
    if (!force && !this.isIdle()) return;
    if (this.unreportedDrops > 0 && !this.retry.failing && !this.closed) {
      this.notices.warn(`Events: dropped ${this.unreportedDrops} event(s) while the queue was full.`);
      this.unreportedDrops = 0;
    }
    this.idle.notify();
  }
}
