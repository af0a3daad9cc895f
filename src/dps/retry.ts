// Retries with exponential backoff and full jitter, honouring Retry-After (docs/dps-contract.md §2.5).
import type { Clock } from './clock';
import { DpsError, DpsThrottledError } from './errors';

export interface RetryOptions {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** No retry is started later than this many ms after the first attempt began (operations-budget waits count). */
  maxElapsedMs: number;
  /** Retry n waits a random time in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Least wait after a 429 that carries no Retry-After (DPS guidance: 1 s). */
  minThrottleDelayMs: number;
}

export const defaultRetryOptions: RetryOptions = {
  maxAttempts: 5,
  maxElapsedMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  minThrottleDelayMs: 1_000,
};

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // HTTP dates always name the day and month, which rules out bare numbers Date.parse would accept.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Full-jitter exponential backoff for the given retry (1 = first retry). */
export function backoffDelay(retry: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

function delayBefore(retry: number, error: DpsError, options: RetryOptions, clock: Clock): number {
  if (error.retryAfterMs !== undefined) return error.retryAfterMs;
  const jittered = backoffDelay(retry, options, () => clock.random());
  return error instanceof DpsThrottledError ? Math.max(options.minThrottleDelayMs, jittered) : jittered;
}

export interface RetryContext {
  clock: Clock;
  signal?: AbortSignal;
  /** Called before each wait; `attempt` is the attempt that just failed. */
  onRetry?: (error: DpsError, attempt: number, delayMs: number) => void;
}

/**
 * Runs `attempt` until it succeeds, throws a non-retryable error, or the attempt/elapsed limits are reached.
 * The error finally thrown is the last one seen, with `attempts` set.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
  context: RetryContext,
): Promise<T> {
  const { clock, signal } = context;
  const startedAt = clock.now();
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!(error instanceof DpsError)) throw error;
      error.attempts = attemptNumber;
      if (!error.retryable || attemptNumber >= options.maxAttempts || signal?.aborted) throw error;
      const delayMs = delayBefore(attemptNumber, error, options, clock);
      if (clock.now() - startedAt + delayMs > options.maxElapsedMs) throw error;
      context.onRetry?.(error, attemptNumber, delayMs);
      await clock.sleep(delayMs, signal);
    }
  }
}
