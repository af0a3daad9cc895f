// Fault plans: a seeded, reproducible share of calls answered with throttling (429 + Retry-After), 500 or
// 503, delayed, reset without an answer, or cut short mid-body. Used by tests and benchmarks of clients.
import { z } from 'zod';
import { createRandom } from './rng';

const rate = z.number().min(0).max(1);

export const faultPlanSchema = z
  .object({
    /** PRNG seed: the same plan and the same call order give the same faults. */
    seed: z.number().int().default(1),
    /** Which API the plan applies to. Default: the service API only. */
    appliesTo: z.enum(['service', 'device', 'all']).default('service'),
    /** Only these route names (see EmulatorStats.calls) when given. */
    routes: z.array(z.string()).optional(),
    /** Share of calls answered 429 with `Retry-After`. */
    throttleRate: rate.default(0),
    /** `Retry-After` value (seconds) of a throttled answer. */
    retryAfterSeconds: z.number().int().min(0).default(1),
    /** Share of calls answered 500. */
    serverErrorRate: rate.default(0),
    /** Share of calls answered 503. */
    unavailableRate: rate.default(0),
    /** Share of calls whose connection is destroyed before any answer. */
    resetRate: rate.default(0),
    /** Share of calls whose body is cut in half (Content-Length promises the whole body). */
    truncateRate: rate.default(0),
    /** Share of calls delayed by `delayMs` (independent of the other faults). */
    delayRate: rate.default(0),
    delayMs: z.number().int().min(0).max(60_000).default(0),
    /** Stop injecting after this many faulted calls (delays not counted). */
    maxFaults: z.number().int().min(0).optional(),
  })
  .refine(
    (plan) =>
      plan.throttleRate + plan.serverErrorRate + plan.unavailableRate + plan.resetRate + plan.truncateRate <=
      1,
    {
      message:
        'the fault rates (throttle, serverError, unavailable, reset, truncate) must add up to at most 1',
    },
  );

/** What a caller may pass (every field optional). */
export type FaultPlan = z.input<typeof faultPlanSchema>;
type ResolvedFaultPlan = z.output<typeof faultPlanSchema>;

export type FaultKind = 'throttle' | 'serverError' | 'unavailable' | 'reset' | 'truncate';

export interface FaultDecision {
  fault: FaultKind | undefined;
  delayMs: number;
  retryAfterSeconds: number;
}

const NO_FAULT: FaultDecision = { fault: undefined, delayMs: 0, retryAfterSeconds: 0 };

/** Draws faults for calls in arrival order; two draws per eligible call keep the sequence reproducible. */
export class FaultInjector {
  private readonly plan: ResolvedFaultPlan;
  private readonly random: () => number;
  private faultsInjected = 0;

  constructor(plan: FaultPlan) {
    this.plan = faultPlanSchema.parse(plan);
    this.random = createRandom(this.plan.seed);
  }

  decide(api: 'service' | 'device', route: string): FaultDecision {
    const plan = this.plan;
    if (plan.appliesTo !== 'all' && plan.appliesTo !== api) return NO_FAULT;
    if (plan.routes && !plan.routes.includes(route)) return NO_FAULT;
    const faultDraw = this.random();
    const delayDraw = this.random();
    const delayMs = delayDraw < plan.delayRate ? plan.delayMs : 0;
    if (plan.maxFaults !== undefined && this.faultsInjected >= plan.maxFaults) {
      return { fault: undefined, delayMs, retryAfterSeconds: 0 };
    }
    const thresholds: Array<[FaultKind, number]> = [
      ['throttle', plan.throttleRate],
      ['serverError', plan.serverErrorRate],
      ['unavailable', plan.unavailableRate],
      ['reset', plan.resetRate],
      ['truncate', plan.truncateRate],
    ];
    let cumulative = 0;
    for (const [fault, share] of thresholds) {
      cumulative += share;
      if (faultDraw < cumulative) {
        this.faultsInjected += 1;
        return { fault, delayMs, retryAfterSeconds: plan.retryAfterSeconds };
      }
    }
    return { fault: undefined, delayMs, retryAfterSeconds: 0 };
  }
}
