// Counters for tests and benchmarks: calls per route, faults injected, webhook traffic, registration outcomes.
import type { FaultKind } from './faults';
import type { QuotaKind } from './quotas';

export interface EmulatorStats {
  /** Calls per route name, e.g. `service.registrations.query`, `device.register`. */
  calls: Record<string, number>;
  /** Answers with HTTP 429, whatever produced them. */
  throttled: number;
  /** Device requests refused by the quotas (quotas.ts), per quota; also counted in `throttled`. */
  quotas: Record<QuotaKind, number>;
  /** Faults injected by the fault plan, per kind. */
  faults: Record<FaultKind, number>;
  /** Answers per HTTP status. */
  statuses: Record<string, number>;
  webhook: { calls: number; retries: number };
  /** Final registration outcomes per status (assigned, failed, disabled). */
  registrations: Record<string, number>;
}

export class StatsRecorder {
  private calls = new Map<string, number>();
  private statuses = new Map<number, number>();
  private faults: Record<FaultKind, number> = {
    throttle: 0,
    serverError: 0,
    unavailable: 0,
    reset: 0,
    truncate: 0,
  };
  private webhookCalls = 0;
  private webhookRetries = 0;
  private outcomes = new Map<string, number>();
  private quotaRefusals: Record<QuotaKind, number> = { registrations: 0, polls: 0 };

  call(route: string): void {
    this.calls.set(route, (this.calls.get(route) ?? 0) + 1);
  }

  status(status: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  fault(kind: FaultKind): void {
    this.faults[kind] += 1;
  }

  webhook(attempts: number): void {
    this.webhookCalls += attempts;
    this.webhookRetries += Math.max(0, attempts - 1);
  }

  quotaExceeded(kind: QuotaKind): void {
    this.quotaRefusals[kind] += 1;
  }

  outcome(status: string): void {
    this.outcomes.set(status, (this.outcomes.get(status) ?? 0) + 1);
  }

  snapshot(): EmulatorStats {
    return {
      calls: Object.fromEntries(this.calls),
      throttled: this.statuses.get(429) ?? 0,
      quotas: { ...this.quotaRefusals },
      faults: { ...this.faults },
      statuses: Object.fromEntries([...this.statuses].map(([status, count]) => [String(status), count])),
      webhook: { calls: this.webhookCalls, retries: this.webhookRetries },
      registrations: Object.fromEntries(this.outcomes),
    };
  }

  reset(): void {
    this.calls.clear();
    this.statuses.clear();
    this.faults = { throttle: 0, serverError: 0, unavailable: 0, reset: 0, truncate: 0 };
    this.webhookCalls = 0;
    this.webhookRetries = 0;
    this.outcomes.clear();
    this.quotaRefusals = { registrations: 0, polls: 0 };
  }
}
