// Keeps DPS service calls under an operations-per-minute budget (DPS allows 1,000/min per instance, shared with
// everything else that calls it). A sliding-window log: no 60 s window ever holds more than the budget.
import type { Clock } from './clock';

export interface OperationBudgetOptions {
  /** Operations allowed in any window of `windowMs`. */
  operationsPerMinute: number;
  /** Window length; 60 000 ms unless a test says otherwise. */
  windowMs?: number;
  clock: Clock;
}

export interface OperationBudgetStats {
  /** Operations admitted so far. */
  operations: number;
  /** Total time callers spent waiting for the budget, in ms. */
  waitedMs: number;
}

/** Admits callers in arrival order, waiting whenever the last window is full. */
export class OperationBudget {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly clock: Clock;
  /** Admission times inside the current window, oldest first. */
  private readonly admitted: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  private operations = 0;
  private waitedMs = 0;

  constructor(options: OperationBudgetOptions) {
    const { operationsPerMinute } = options;
    if (!Number.isInteger(operationsPerMinute) || operationsPerMinute < 1) {
      throw new RangeError(`operationsPerMinute must be a positive integer, got ${operationsPerMinute}`);
    }
    this.limit = operationsPerMinute;
    this.windowMs = options.windowMs ?? 60_000;
    this.clock = options.clock;
  }

  /** Resolves when one more operation fits the budget, and counts it. */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.admit(signal));
    this.queue = turn.catch(() => undefined); // an aborted waiter must not block those behind it
    return turn;
  }

  /** How long one more operation would wait now for the window to free a place (0: it would go at once). */
  admissionDelayMs(): number {
    const now = this.clock.now();
    const inWindow = this.admitted.filter((at) => at > now - this.windowMs);
    if (inWindow.length < this.limit) return 0;
    return inWindow[inWindow.length - this.limit]! + this.windowMs - now;
  }

  stats(): OperationBudgetStats {
    return { operations: this.operations, waitedMs: this.waitedMs };
  }

  resetStats(): void {
    this.operations = 0;
    this.waitedMs = 0;
  }

  private async admit(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      while (this.admitted.length > 0 && this.admitted[0]! <= now - this.windowMs) this.admitted.shift();
      const oldest = this.admitted[0];
      if (oldest === undefined || this.admitted.length < this.limit) {
        this.admitted.push(now);
        this.operations++;
        return;
      }
      const waitMs = oldest + this.windowMs - now;
      this.waitedMs += waitMs;
      await this.clock.sleep(waitMs, signal);
    }
  }
}
