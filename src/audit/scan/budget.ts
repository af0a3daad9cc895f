// The limits of one scan run: a time budget (well under the Functions timeout) and a number of DPS operations
// (the client's own per-minute limit keeps the rate under DPS's quota; this caps the run's share of it).

export interface RunBudgetOptions {
  startedAtMs: number;
  timeBudgetMs: number;
  maxOperations: number;
  /** DPS operations sent by this run so far (retries included). */
  operationsUsed: () => number;
  now: () => number;
  /** True once someone asked the run to stop (e.g. Ctrl-C in `npm run audit -- scan`). */
  stopRequested?: () => boolean;
  /** How long the next DPS call would wait for the per-minute limit: a wait past the deadline ends the run now. */
  admissionDelayMs?: () => number;
}

export class RunBudget {
  constructor(private readonly options: RunBudgetOptions) {}

  /** When the run must stop sending DPS calls. */
  get deadlineMs(): number {
    return this.options.startedAtMs + this.options.timeBudgetMs;
  }

  /** DPS operations the run may still send. */
  operationsLeft(): number {
    return Math.max(0, this.options.maxOperations - this.options.operationsUsed());
  }

  /** Why the run cannot afford `operations` more DPS operations now, or undefined when it can. */
  exhausted(operations = 1): string | undefined {
    const { now, operationsUsed, maxOperations, timeBudgetMs, stopRequested, admissionDelayMs } =
      this.options;
    if (stopRequested?.()) return 'stop requested';
    const budget = `time budget of ${Math.round(timeBudgetMs / 1000)} s`;
    if (now() >= this.deadlineMs) return `${budget} used`;
    const wait = admissionDelayMs?.() ?? 0;
    if (now() + wait >= this.deadlineMs) {
      return `${budget} used (the next DPS call would wait ${Math.ceil(wait / 1000)} s for the per-minute limit)`;
    }
    const used = operationsUsed();
    if (used + operations > maxOperations) {
      return `operations budget used (${used} of ${maxOperations})`;
    }
    return undefined;
  }
}
