// What the allocate function does with a request body: the webhook's answer, its log line, and the decision row,
// awaited for at most DECISION_LOG_MAX_WAIT_MS so that on a healthy store the row is durable before DPS has its
// answer (a Consumption or Flex instance may be frozen right after answering), and a storage problem costs the
// allocation no more than that bound. With HUB_LOAD_HUBS set, the webhook reads the hubs' device counts from a cache
// that refreshes itself in the background (src/hub-load/cache.ts), never on a request's path.
import { createAllocationWebhook, type AllocationWebhook } from '../allocation/setup';
import type { JsonAnswer } from '../http/response';
import type { HubLoadCache } from '../hub-load/cache';
import { hubLoadCacheFromSettings } from '../hub-load/cache-from-settings';
import { allocationEvent } from '../events/allocation-events';
import { consoleEventNotices, eventPublisherFromSettings } from '../events/from-settings';
import type { EventPublisher } from '../events/publisher';
import { readSettings } from '../settings';
import { safeReason } from './reason';
import { consoleNotices, decisionRecorderFromSettings, type RecorderOptions } from './recorder';
import { decisionRowFrom, type DecisionRow } from './table';
import type { DecisionRecorder, RecordOutcome } from './writer';

/** The InvocationContext log methods allocate uses. */
export interface AllocateLog {
  log(message: string): void;
  warn(message: string): void;
}

export interface AllocateHandler {
  answer(body: string, log: AllocateLog): Promise<JsonAnswer>;
  /** The decision row's fate, with the answer (tests and benchmarks). */
  answerWithOutcome(body: string, log: AllocateLog): Promise<JsonAnswer & { recorded: RecordOutcome }>;
  /** Writes what is queued and stops the decision log and the hub-load refreshes (the app's terminate hook). */
  close(): Promise<void>;
  /** The hub device counts the webhook reads; undefined without HUB_LOAD_HUBS (tests, benchmarks). */
  readonly hubLoad: HubLoadCache | undefined;
}

export interface AllocateHandlerOptions extends RecorderOptions {
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: the decision log of the settings. */
  recorder?: DecisionRecorder;
  /** Default: the webhook of the settings. */
  webhook?: AllocationWebhook;
  /** Default: the event publisher of the settings (none without EVENTS_TOPIC_ENDPOINT). */
  events?: EventPublisher;
}

export function createAllocateHandler(options: AllocateHandlerOptions = {}): AllocateHandler {
  const env = options.env ?? process.env;
  const settings = readSettings(env);
  const hubLoad = options.webhook
    ? undefined
    : hubLoadCacheFromSettings(settings, env, { notices: options.notices ?? consoleNotices });
  const webhook = options.webhook ?? createAllocationWebhook(env, hubLoad);
  const recorder = options.recorder ?? decisionRecorderFromSettings(settings, env, options);
  const events =
    options.events ?? eventPublisherFromSettings(settings, env, options.notices ?? consoleEventNotices);

  const answerWithOutcome = async (body: string, log: AllocateLog) => {
    const at = new Date();
    // One clock reading: the instant certificate expiry is judged at is the one the decision row records.
    const { status, jsonBody, headers, log: decision } = webhook(body, at.getTime());
    // The log line, like the row, withholds payload values that strategies quote in their reasons.
    const line = JSON.stringify({ ...decision, reason: safeReason(decision.reason) });
    if (decision.outcome === 'assigned') log.log(line);
    else log.warn(line);
    let row: DecisionRow;
    try {
      row = decisionRowFrom(decision, at);
    } catch (error) {
      // A row that cannot even be built must not fail the allocation.
      log.warn(`Decision log: row not recorded: ${(error as Error).message}`);
      return { status, jsonBody, headers, recorded: 'skipped' as const };
    }
    if (events.enabled) {
      try {
        // Queued, not awaited: the topic never delays the answer (docs/events.md).
        events.publish([allocationEvent(row, decision.previousHub, events.source)]);
      } catch (error) {
        log.warn(`Events: allocation event not published: ${(error as Error).message}`);
      }
    }
    // record() never rejects.
    const recorded: RecordOutcome = await recorder.record(row);
    return { status, jsonBody, headers, recorded };
  };

  return {
    answerWithOutcome,
    async answer(body, log) {
      const { status, jsonBody, headers } = await answerWithOutcome(body, log);
      return { status, jsonBody, headers };
    },
    close: async () => {
      hubLoad?.close();
      await Promise.all([recorder.close(), events.close(1_000)]);
    },
    hubLoad,
  };
}
