// The device API's timing (docs/dps-contract.md §4.3): DPS-like by default, so that device code meets 202s,
// `assigning` polls and 429s as it would against DPS; FAST_TIMING switches all of it off for fast tests.
import type { Quotas } from './quotas';

/** The `retry-after` of DPS's published exchange (docs/dps-contract.md §4). */
export const DPS_RETRY_AFTER_SECONDS = 3;

/**
 * Longer than DPS_RETRY_AFTER_SECONDS, so that a device that waits as told sees `assigning` on its first poll and
 * `assigned` on the second. DPS publishes no assignment time: an emulator choice.
 */
export const DPS_ASSIGNMENT_DELAY_MS = 4000;

export interface EmulatorTiming {
  assignmentDelayMs: number;
  /** `retry-after` of 202 answers to devices. */
  retryAfterSeconds: number;
  /** false: no quotas. */
  quotas: Quotas;
}

/** No assignment delay, `retry-after: 0`, no quotas: what tests use unless they test the timing itself. */
export const FAST_TIMING = {
  assignmentDelayMs: 0,
  retryAfterSeconds: 0,
  quotas: false,
} as const satisfies EmulatorTiming;

/** One line for banners: `assignment 4000 ms, retry-after 3 s, quotas 1000/60 s registrations, 5/10 s polls per device`. */
export function describeTiming(timing: EmulatorTiming): string {
  const { quotas } = timing;
  const window = (limit: number, windowMs: number) => `${limit}/${windowMs / 1000} s`;
  const quotaText =
    quotas === false
      ? 'no quotas'
      : `quotas ${quotas.registrations ? `${window(quotas.registrations.limit, quotas.registrations.windowMs)} registrations` : 'no registration quota'}, ` +
        `${quotas.polls ? `${window(quotas.polls.limit, quotas.polls.windowMs)} polls per device` : 'no poll quota'}`;
  return `assignment ${timing.assignmentDelayMs} ms, retry-after ${timing.retryAfterSeconds} s, ${quotaText}`;
}
