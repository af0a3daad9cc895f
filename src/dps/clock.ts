// Time and randomness behind an interface, so retries, token expiry and the operations budget can be tested
// without waiting.
import { setTimeout as delay } from 'node:timers/promises';

/** What the DPS client needs from time: the current time, a cancellable sleep and a random source. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects (AbortError) when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1), used for backoff jitter. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
  },
  random: () => Math.random(),
};
