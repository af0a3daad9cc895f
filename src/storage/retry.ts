// How patiently storage calls are retried (the SDK's exponential retry policy, plus a limit per attempt).
import { DEFAULT_ATTEMPT_TIMEOUT_MS } from './attempt-timeout';

export interface StorageRetryOptions {
  maxRetries: number;
  retryDelayInMs: number;
  maxRetryDelayInMs: number;
  /** Each attempt of a request is given up after this (attempt-timeout.ts), then retried. */
  attemptTimeoutMs: number;
}

/** For background work (the scan): rides out a storage hiccup of a minute or two. */
export const defaultStorageRetry: StorageRetryOptions = {
  maxRetries: 5,
  retryDelayInMs: 500,
  maxRetryDelayInMs: 10_000,
  attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS,
};

/** For a person waiting (CLI, HTTP reads): an outage is reported within seconds, not minutes. */
export const INTERACTIVE_STORAGE_RETRY: StorageRetryOptions = {
  maxRetries: 2,
  retryDelayInMs: 200,
  maxRetryDelayInMs: 1_000,
  attemptTimeoutMs: 5_000,
};

/** TableClient options for these retry settings. */
export function retryClientOptions(
  retry: Partial<StorageRetryOptions> | undefined,
  base = defaultStorageRetry,
) {
  const { attemptTimeoutMs, ...retryOptions } = { ...base, ...retry };
  return { retryOptions, attemptTimeoutMs };
}
