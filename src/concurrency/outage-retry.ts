// Retrying background work while its peer is away: doubling, capped backoff with ±20 % jitter (so instances that
// failed together do not retry together), and the outage it is in, from the first failure to the next success.

export interface OutageRetryOptions {
  /** The first delay, doubled after each further failure up to `maxMs`. */
  initialMs: number;
  maxMs: number;
  /** Called when the delay has passed. */
  retry: () => void;
}

export class OutageRetry {
  private consecutiveFailures = 0;
  private timer: NodeJS.Timeout | undefined;
  private since: number | undefined;

  constructor(private readonly options: OutageRetryOptions) {}

  /** Whether the peer is failing now: between the first failed attempt and the next success. */
  get failing(): boolean {
    return this.since !== undefined;
  }

  /** Failed attempts since the last success. */
  get failures(): number {
    return this.consecutiveFailures;
  }

  /** A failed attempt: schedules the retry, unless `closed`. True when this failure begins an outage. */
  failed(closed: boolean): boolean {
    this.consecutiveFailures++;
    const backoff = Math.min(
      this.options.maxMs,
      this.options.initialMs * 2 ** (this.consecutiveFailures - 1),
    );
    const delay = Math.round(backoff * (0.8 + Math.random() * 0.4));
    if (!closed) {
      this.cancel();
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.options.retry();
      }, delay);
      this.timer.unref();
    }
    if (this.since !== undefined) return false;
    this.since = Date.now();
    return true;
  }

  /** A successful attempt: how long the outage it ends lasted (ms), or undefined when there was none. */
  succeeded(): number | undefined {
    this.consecutiveFailures = 0;
    const since = this.since;
    this.since = undefined;
    return since === undefined ? undefined : Date.now() - since;
  }

  /** Stops a scheduled retry. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
