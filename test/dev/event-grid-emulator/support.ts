// Shared by the Event Grid emulator tests: the official publisher client pointed at the emulator, raw publish
// calls, an SSE reader, and a webhook receiver on 127.0.0.1.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AzureKeyCredential,
  EventGridPublisherClient,
  type AzureSASCredential,
  type SendCloudEventInput,
} from '@azure/eventgrid';
import type { CloudEventRecord, EventGridEmulator } from '../../../dev/event-grid-emulator';

export const BATCH_TYPE = 'application/cloudevents-batch+json; charset=utf-8';

/**
 * The official client as an app would make it. The pipeline refuses http unless allowInsecureConnection is set
 * (core-rest-pipeline); no retries, so a refused send rejects at once.
 */
export function publisher(
  topic: EventGridEmulator,
  credential: AzureKeyCredential | AzureSASCredential = new AzureKeyCredential(topic.key),
): EventGridPublisherClient<'CloudEvent'> {
  return new EventGridPublisherClient(topic.endpoint, 'CloudEvent', credential, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

export function sampleEvent(n: number): SendCloudEventInput<unknown> {
  return {
    id: `event-${n}`,
    source: '/dps-allocator/test',
    type: 'dps-allocator.problem.opened',
    subject: `device-${n}`,
    time: new Date('2026-12-07T06:00:00Z'),
    data: { status: 'failed', errorCode: 400209, n },
  };
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** A raw POST to the topic; `path` and `query` default to the publish API's. */
export async function rawPublish(
  topic: EventGridEmulator,
  body: string | Buffer,
  options: {
    contentType?: string;
    /** The aeg-sas-key header; default the topic's key, null: none. */
    key?: string | null;
    query?: string;
    path?: string;
  } = {},
): Promise<RawAnswer> {
  const base = new URL(topic.endpoint);
  const url = `${base.origin}${options.path ?? base.pathname}${options.query ?? '?api-version=2018-01-01'}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? BATCH_TYPE,
      ...(options.key === null ? {} : { 'aeg-sas-key': options.key ?? topic.key }),
    },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export function cloudEvent(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, source: '/raw', specversion: '1.0', type: 'raw.test', ...extra };
}

export interface SseReader {
  /** Resolves with the events read so far once there are `count`. */
  next(count: number): Promise<CloudEventRecord[]>;
  /** Resolves when the server ended the stream cleanly (rejects if it was cut). */
  ended: Promise<void>;
  close(): void;
}

/** Reads an SSE stream with fetch; `data:` lines parsed as JSON. */
export async function readSse(url: string, headers: Record<string, string>): Promise<SseReader> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  if (response.status !== 200 || response.body === null) {
    throw new Error(`stream answered ${response.status}: ${await response.text()}`);
  }
  const events: CloudEventRecord[] = [];
  const waiting: { count: number; resolve: (events: CloudEventRecord[]) => void }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body.getReader();
  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6));
        if (data.length > 0) events.push(JSON.parse(data.join('\n')) as CloudEventRecord);
      }
      for (const waiter of [...waiting]) {
        if (events.length >= waiter.count) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.resolve([...events]);
        }
      }
    }
  })();
  ended.catch(() => undefined);
  return {
    next: (count) =>
      events.length >= count
        ? Promise.resolve([...events])
        : new Promise((resolve) => waiting.push({ count, resolve })),
    ended,
    close: () => abort.abort(),
  };
}

export interface ReceivedDelivery {
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedDelivery[];
  /** Resolves once `count` deliveries arrived (whatever was answered). */
  waitFor(count: number): Promise<ReceivedDelivery[]>;
  stop(): Promise<void>;
}

/** A webhook on 127.0.0.1 that answers each delivery with `answer(n)` (n counts from 0). */
export async function startWebhookReceiver(answer: (n: number) => number): Promise<WebhookReceiver> {
  const received: ReceivedDelivery[] = [];
  const waiting: { count: number; resolve: (all: ReceivedDelivery[]) => void }[] = [];
  const server = http.createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      const status = answer(received.length);
      received.push({ headers: request.headers, body: JSON.parse(text) as Record<string, unknown> });
      response.writeHead(status).end();
      for (const waiter of [...waiting]) {
        if (received.length >= waiter.count) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.resolve([...received]);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook?code=secret-function-key`,
    received,
    waitFor: (count) =>
      received.length >= count
        ? Promise.resolve([...received])
        : new Promise((resolve) => waiting.push({ count, resolve })),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
