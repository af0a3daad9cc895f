// startEventGridEmulator: a local Event Grid custom topic (CloudEvents 1.0 input schema) for the functions to
// publish to, with in-process, SSE and webhook subscribers. Dev and test tooling, never deployed (README.md).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { RecordedEvents, type CloudEventRecord } from './records';
import { createTopicServer, TOPIC_PATH } from './server';
import { EventStreams } from './stream';
import { EMULATOR_DELIVERY, WebhookDeliveries, type DeliverySchedule } from './webhooks';

/** 1 MB, read as 2^20 bytes (which Event Grid means is UNCONFIRMED, docs/events-contract.md §6, point 3). */
export const EVENT_GRID_MAX_BYTES = 1_048_576;

export interface EventGridEmulatorOptions {
  /** 0 (default): any free port. */
  port?: number;
  /** The aeg-sas-key it accepts; default 32 random bytes in base64, like a topic's keys. */
  key?: string;
  /** Named in logs and errors; default 'local-topic'. */
  topicName?: string;
  /** Accepted events kept in memory, newest last; default 10,000. */
  maxRecordedEvents?: number;
  /** Default 1 MB, Event Grid's limit for a publish request. */
  maxBatchBytes?: number;
  /** Default 1 MB, Event Grid's limit for one event. */
  maxEventBytes?: number;
  /** Webhook delivery retries; default EMULATOR_DELIVERY (Event Grid's schedule, a hundred times faster). */
  delivery?: Partial<DeliverySchedule>;
  /** Webhooks outside 127.0.0.1/localhost are refused unless set (tests must not reach the network). */
  allowNonLoopbackWebhooks?: boolean;
  /** Comment lines on idle SSE streams this often; default 15 s. */
  keepAliveMs?: number;
  /** Retry-After (seconds) of the 503 answers while unavailable; default 1. */
  retryAfterSeconds?: number;
  /** Request and delivery log lines (never keys, tokens or bodies); default none. */
  log?: (line: string) => void;
}

export interface EventGridEmulator {
  /** http://127.0.0.1:<port>/api/events */
  readonly endpoint: string;
  /** The aeg-sas-key it accepts. */
  readonly key: string;
  /** http://127.0.0.1:<port>/api/events/stream: SSE of accepted events (dev only). */
  readonly streamUrl: string;
  /** Accepted events in arrival order, as received plus receivedAt. */
  events(): CloudEventRecord[];
  /** An in-process subscriber; returns the unsubscribe. */
  subscribe(listener: (event: CloudEventRecord) => void): () => void;
  /** Push delivery of every event accepted from now on, with Event Grid-like retries. */
  addWebhookSubscription(url: string): void;
  /** false: publishes answer 503 with Retry-After (the topic is down) until set back to true. */
  setAvailable(available: boolean): void;
  /** Every recorded event once at least `count` are recorded; rejects after `timeoutMs` (default 10 s). */
  waitForEvents(count: number, timeoutMs?: number): Promise<CloudEventRecord[]>;
  /** Ends the streams, cancels deliveries and closes the server. */
  stop(): Promise<void>;
}

const optionsSchema = z.object({
  port: z.number().int().min(0).max(65_535).default(0),
  key: z.string().min(1, 'key must not be empty').optional(),
  topicName: z.string().min(1).default('local-topic'),
  maxRecordedEvents: z.number().int().positive().default(10_000),
  maxBatchBytes: z.number().int().positive().default(EVENT_GRID_MAX_BYTES),
  maxEventBytes: z.number().int().positive().default(EVENT_GRID_MAX_BYTES),
  keepAliveMs: z.number().int().positive().default(15_000),
  retryAfterSeconds: z.number().int().min(0).default(1),
  allowNonLoopbackWebhooks: z.boolean().default(false),
});

/** Waits for `promise`, at most `ms` (unref'd timer): a stuck reader must not hold stop() forever. */
function atMost(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms).unref();
    void promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startEventGridEmulator(
  options: EventGridEmulatorOptions = {},
): Promise<EventGridEmulator> {
  const settings = optionsSchema.parse(options);
  const log = options.log ?? (() => undefined);
  const key = settings.key ?? randomBytes(32).toString('base64');
  const records = new RecordedEvents(settings.maxRecordedEvents, log);
  const streams = new EventStreams(settings.keepAliveMs, log);
  const webhooks = new WebhookDeliveries({
    schedule: { ...EMULATOR_DELIVERY, ...options.delivery },
    allowNonLoopback: settings.allowNonLoopbackWebhooks,
    log,
  });
  records.subscribe((event) => {
    streams.broadcast(event);
    webhooks.deliver(event);
  });
  let available = true;
  const server = createTopicServer({
    key,
    topicName: settings.topicName,
    records,
    streams,
    isAvailable: () => available,
    retryAfterSeconds: settings.retryAfterSeconds,
    maxBatchBytes: settings.maxBatchBytes,
    maxEventBytes: settings.maxEventBytes,
    log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}${TOPIC_PATH}`;
  let stopping: Promise<void> | undefined;

  return {
    endpoint,
    key,
    streamUrl: `${endpoint}/stream`,
    events: () => records.all(),
    subscribe: (listener) => records.subscribe(listener),
    addWebhookSubscription: (url) => webhooks.add(url),
    setAvailable: (value) => {
      available = value;
    },
    waitForEvents: (count, timeoutMs = 10_000) => records.waitFor(count, timeoutMs),
    stop: () => {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        records.stop();
        await Promise.all([atMost(streams.closeAll(), 2_000), webhooks.stop()]);
        server.closeAllConnections();
        await closed;
      })();
      return stopping;
    },
  };
}
