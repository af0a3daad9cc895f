// Reading the local Event Grid topic (dev/event-grid-emulator, README "Stream"): its recorded events as JSON, and
// its SSE stream followed with reconnects. Event Grid itself has no read API (docs/events.md); only the local
// topic answers these paths. The key travels in the aeg-sas-key header, never in a URL that could be printed.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { z } from 'zod';

/** What the CLI needs of an event the topic recorded; everything else is kept as received. */
export const topicEventSchema = z.looseObject({
  id: z.string(),
  source: z.string(),
  type: z.string(),
  subject: z.string().optional(),
  time: z.string().optional(),
  data: z.unknown().optional(),
  receivedAt: z.string().optional(),
});

export type TopicEvent = z.infer<typeof topicEventSchema>;

/** The topic answered with another status than 200 (404: not the local topic; 401: wrong key). */
export class TopicAnswerError extends Error {
  override name = 'TopicAnswerError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** No answer at all (refused, reset, timed out); `code` is the system's (ECONNREFUSED, …). */
export class TopicUnreachableError extends Error {
  override name = 'TopicUnreachableError';
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface TopicAccess {
  /** The topic endpoint, …/api/events. */
  endpoint: string;
  key: string;
}

const pathOf = (access: TopicAccess, tail: string) => `${access.endpoint.replace(/\/+$/, '')}/${tail}`;

function unreachable(error: unknown): TopicUnreachableError {
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = (error as { code?: string }).code ?? cause?.code;
  return new TopicUnreachableError(code, (error as Error).message);
}

async function answerError(status: number, body: { text(): Promise<string> }): Promise<TopicAnswerError> {
  const text = await body.text().catch(() => '');
  let message = text.slice(0, 300);
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
  } catch {
    // not JSON: the text as it is
  }
  return new TopicAnswerError(status, message);
}

/** The recorded events, oldest first. */
export async function readRecordedEvents(access: TopicAccess): Promise<TopicEvent[]> {
  const agent = new Agent({ headersTimeout: 10_000, bodyTimeout: 30_000 });
  try {
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(pathOf(access, 'recorded'), {
        headers: { 'aeg-sas-key': access.key, accept: 'application/json' },
        dispatcher: agent,
      });
    } catch (error) {
      throw unreachable(error);
    }
    if (response.statusCode !== 200) throw await answerError(response.statusCode, response.body);
    const parsed = z.array(topicEventSchema).safeParse(await response.body.json().catch(() => undefined));
    if (!parsed.success)
      throw new TopicAnswerError(200, 'the recorded events are not a JSON array of CloudEvents');
    return parsed.data;
  } finally {
    await agent.close();
  }
}

/** Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html): the `data` of each message. */
export class SseParser {
  private partial = '';
  private data: string[] = [];

  /** Feeds text; returns the data of every message it completed. */
  feed(text: string): string[] {
    let whole = this.partial + text;
    // A trailing CR may be the first half of a CRLF: held back until the next chunk says which.
    const heldCr = whole.endsWith('\r') ? '\r' : '';
    if (heldCr) whole = whole.slice(0, -1);
    const lines = whole.split(/\r\n|\r|\n/);
    this.partial = (lines.pop() ?? '') + heldCr;
    const messages: string[] = [];
    for (const line of lines) {
      if (line === '') {
        if (this.data.length > 0) messages.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(5).replace(/^ /, ''));
      }
      // Comments (":"), id, event and retry fields: the CLI de-duplicates by the event's own id.
    }
    return messages;
  }
}

export interface FollowOptions {
  signal: AbortSignal;
  onEvent: (event: TopicEvent) => void;
  /** A message that is not a CloudEvent, or a dropped connection about to be retried. */
  onNotice: (text: string) => void;
  /** The waits before each reconnect attempt after a drop; default 0.5, 1, 2, 4 and 8 s. */
  reconnectDelaysMs?: readonly number[];
  /** No byte (not even a keep-alive) for this long counts as a drop; default 60 s. */
  idleTimeoutMs?: number;
}

export type FollowOutcome = 'ended' | 'stopped';

const DEFAULT_RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
/** Ids of events already printed, kept for de-duplication after a reconnect (replay sends them again). */
const MAX_SEEN = 100_000;

class SeenEvents {
  private readonly keys = new Set<string>();

  /** True the first time an event (source + id, docs/events-contract.md §1) is seen. */
  first(event: TopicEvent): boolean {
    const key = `${event.source}\n${event.id}`;
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > MAX_SEEN) this.keys.delete(this.keys.values().next().value!);
    return true;
  }
}

/** One connection: resolves when the topic ends the stream; rejects when it drops or answers other than 200. */
async function readStream(
  access: TopicAccess,
  agent: Agent,
  options: FollowOptions,
  seen: SeenEvents,
  connected: () => void,
): Promise<void> {
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(pathOf(access, 'stream?replay=true'), {
      headers: { 'aeg-sas-key': access.key, accept: 'text/event-stream' },
      dispatcher: agent,
      signal: options.signal,
    });
  } catch (error) {
    throw options.signal.aborted ? error : unreachable(error);
  }
  if (response.statusCode !== 200) throw await answerError(response.statusCode, response.body);
  connected();
  const parser = new SseParser();
  response.body.setEncoding('utf8');
  try {
    for await (const chunk of response.body as AsyncIterable<string>) {
      for (const data of parser.feed(chunk)) {
        let parsed: ReturnType<typeof topicEventSchema.safeParse>;
        try {
          parsed = topicEventSchema.safeParse(JSON.parse(data));
        } catch {
          parsed = topicEventSchema.safeParse(undefined);
        }
        if (!parsed.success) options.onNotice('skipped a stream message that is not a CloudEvent');
        else if (seen.first(parsed.data)) options.onEvent(parsed.data);
      }
    }
  } catch (error) {
    throw options.signal.aborted ? error : unreachable(error);
  }
}

/**
 * Prints the recorded events, then each new one, until the topic ends the stream ('ended') or `signal` aborts
 * ('stopped'). A dropped connection is retried (replaying, de-duplicated) while the delays last; a refused first
 * connection, a non-200 answer or the last failed retry rejects.
 */
export async function followEvents(access: TopicAccess, options: FollowOptions): Promise<FollowOutcome> {
  const delays = options.reconnectDelaysMs ?? DEFAULT_RECONNECT_DELAYS_MS;
  const agent = new Agent({ headersTimeout: 10_000, bodyTimeout: options.idleTimeoutMs ?? 60_000 });
  const seen = new SeenEvents();
  let everConnected = false;
  let failures = 0;
  try {
    for (;;) {
      try {
        await readStream(access, agent, options, seen, () => {
          everConnected = true;
          failures = 0;
        });
        return 'ended';
      } catch (error) {
        if (options.signal.aborted) return 'stopped';
        const retry = everConnected && error instanceof TopicUnreachableError && failures < delays.length;
        if (!retry) throw error;
        const delay = delays[failures]!;
        failures += 1;
        options.onNotice(
          `the connection to the topic dropped (${error.code ?? error.message}); reconnecting in ` +
            `${delay / 1000} s (${failures}/${delays.length})`,
        );
        try {
          await sleep(delay, undefined, { signal: options.signal });
        } catch {
          return 'stopped';
        }
      }
    }
  } finally {
    await agent.destroy();
  }
}
