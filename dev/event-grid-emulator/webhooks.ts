// Push delivery to webhook subscriptions, modelled on Event Grid's (docs/events-contract.md §3): each event is
// POSTed on its own as a CloudEvent (application/cloudevents+json) with the aeg-* delivery headers, at least once;
// 200–204 is delivered, 400/401/403/413 are dropped (Event Grid dead-letters or drops them; dead-lettering is not
// emulated), anything else (or no answer in time) is retried on a back-off schedule until the attempts or the
// event's time to live run out. Order is not kept, as in Event Grid.
import { Agent, request } from 'undici';
import { maskWebhookUrl } from '../dps-emulator/custom-webhook';
import type { CloudEvent } from './batch';
import type { CloudEventRecord } from './records';

export interface DeliverySchedule {
  /** The delay before each retry; the last one repeats. */
  retryDelaysMs: readonly number[];
  /** Attempts per event, the first included. Event Grid default: 30 (1–30). */
  maxAttempts: number;
  /** Retries stop this long after the event was accepted. Event Grid default: 1,440 min. */
  eventTimeToLiveMs: number;
  /** How long one attempt waits for the answer. Event Grid: 30 s. */
  timeoutMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Event Grid's documented schedule [DELIV]: 10 s, 30 s, 1 min, 5, 10, 30 min, 1 h, 3 h, 6 h, then every 12 h. */
export const EVENT_GRID_DELIVERY: DeliverySchedule = {
  retryDelaysMs: [
    10_000,
    30_000,
    MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    30 * MINUTE,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
  ],
  maxAttempts: 30,
  eventTimeToLiveMs: 1440 * MINUTE,
  timeoutMs: 30_000,
};

/** The emulator's default: Event Grid's schedule a hundred times faster (0.1 s, 0.3 s, 0.6 s, 3 s, …). */
export const EMULATOR_DELIVERY: DeliverySchedule = {
  retryDelaysMs: EVENT_GRID_DELIVERY.retryDelaysMs.map((delay) => delay / 100),
  maxAttempts: EVENT_GRID_DELIVERY.maxAttempts,
  eventTimeToLiveMs: EVENT_GRID_DELIVERY.eventTimeToLiveMs / 100,
  timeoutMs: 5_000,
};

/** Answers Event Grid does not retry for webhooks [DELIV]. */
const NOT_RETRIED = new Set([400, 401, 403, 413]);
/** Deliveries to one subscription in flight at once. */
const CONCURRENCY = 8;
/** Events waiting per subscription; past it the oldest is dropped (and logged). */
const MAX_QUEUED = 10_000;

interface Delivery {
  event: CloudEvent;
  acceptedAtMs: number;
  attempts: number;
}

/** The event as a CloudEvent again: receivedAt is the emulator's, not an attribute. */
function cloudEventOf(record: CloudEventRecord): CloudEvent {
  const { receivedAt: _receivedAt, ...event } = record;
  return event as CloudEvent;
}

/** ±10 % (Event Grid adds "small randomisation" to its delays [DELIV]). */
const jittered = (delayMs: number) => Math.round(delayMs * (0.9 + Math.random() * 0.2));

class WebhookSubscription {
  private readonly queue: Delivery[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private inFlight = 0;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly deps: {
      schedule: DeliverySchedule;
      agent: Agent;
      stopping: AbortSignal;
      log: (line: string) => void;
    },
  ) {}

  private get shownUrl(): string {
    return maskWebhookUrl(this.url);
  }

  enqueue(delivery: Delivery): void {
    if (this.deps.stopping.aborted) return;
    this.queue.push(delivery);
    if (this.queue.length > MAX_QUEUED) {
      const dropped = this.queue.shift();
      this.deps.log(
        `${this.name}: ${MAX_QUEUED} events waiting for ${this.shownUrl}; event ${dropped?.event.id} dropped`,
      );
    }
    this.pump();
  }

  stop(): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.queue.length = 0;
  }

  private pump(): void {
    while (this.inFlight < CONCURRENCY && this.queue.length > 0 && !this.deps.stopping.aborted) {
      const delivery = this.queue.shift()!;
      this.inFlight += 1;
      void this.attempt(delivery).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  /** The answer's status, or 0 when none came (refused, reset, timed out). */
  private async post(delivery: Delivery): Promise<number> {
    const { schedule, agent, stopping } = this.deps;
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/cloudevents+json; charset=utf-8',
          'aeg-event-type': 'Notification',
          'aeg-subscription-name': this.name,
          'aeg-delivery-count': String(delivery.attempts),
          'aeg-metadata-version': delivery.event.specversion,
        },
        body: JSON.stringify(delivery.event),
        signal: AbortSignal.any([stopping, AbortSignal.timeout(schedule.timeoutMs)]),
      });
      await response.body.dump();
      return response.statusCode;
    } catch {
      return 0;
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const status = await this.post(delivery);
    delivery.attempts += 1;
    if (this.deps.stopping.aborted || (status >= 200 && status <= 204)) return;
    const { schedule, log } = this.deps;
    const what = `${this.name}: event ${delivery.event.id} to ${this.shownUrl}`;
    const answer = status === 0 ? 'no answer' : `HTTP ${status}`;
    if (NOT_RETRIED.has(status)) {
      log(`${what} dropped after ${answer}, which Event Grid does not retry`);
      return;
    }
    const delay = jittered(
      schedule.retryDelaysMs[Math.min(delivery.attempts - 1, schedule.retryDelaysMs.length - 1)] ?? 0,
    );
    const expired = Date.now() + delay - delivery.acceptedAtMs > schedule.eventTimeToLiveMs;
    if (delivery.attempts >= schedule.maxAttempts || expired) {
      log(`${what} dropped after ${delivery.attempts} attempts (last: ${answer})`);
      return;
    }
    log(`${what}: ${answer}; retry ${delivery.attempts} in ${delay} ms`);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.enqueue(delivery);
    }, delay);
    timer.unref();
    this.retryTimers.add(timer);
  }
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname.toLowerCase());
}

export class WebhookDeliveries {
  private readonly subscriptions: WebhookSubscription[] = [];
  private readonly agent = new Agent();
  private readonly stopping = new AbortController();

  constructor(
    private readonly options: {
      schedule: DeliverySchedule;
      allowNonLoopback: boolean;
      log: (line: string) => void;
    },
  ) {}

  add(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`Webhook URL '${maskWebhookUrl(url)}' is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`Webhook URL '${maskWebhookUrl(url)}' must be http or https`);
    }
    // Tests must never reach the network: only loopback webhooks unless the emulator is told otherwise.
    if (!this.options.allowNonLoopback && !isLoopback(parsed)) {
      throw new TypeError(`Webhook URL '${maskWebhookUrl(url)}' is not on 127.0.0.1 or localhost`);
    }
    if (this.stopping.signal.aborted) throw new Error('The Event Grid emulator is stopped');
    this.subscriptions.push(
      new WebhookSubscription(`webhook-${this.subscriptions.length + 1}`, url, {
        schedule: this.options.schedule,
        agent: this.agent,
        stopping: this.stopping.signal,
        log: this.options.log,
      }),
    );
  }

  deliver(record: CloudEventRecord): void {
    if (this.subscriptions.length === 0) return;
    const event = cloudEventOf(record);
    const acceptedAtMs = Date.parse(record.receivedAt);
    for (const subscription of this.subscriptions) subscription.enqueue({ event, acceptedAtMs, attempts: 0 });
  }

  /** Cancels waiting retries and attempts in flight; undelivered events are given up (the emulator stops). */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const subscription of this.subscriptions) subscription.stop();
    await this.agent.destroy();
  }
}
