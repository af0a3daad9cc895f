// DPS's rate limits on the device API (docs/dps-contract.md §2.5, §4.3): device registrations per instance and
// polling operations per device. Over a limit the request is answered 429 (429001) with `retry-after`, the seconds
// until a slot frees (at least 1); the MQTT endpoint turns that header into the answer topic's `retry-after`.
// Sliding windows: a request is admitted while fewer than `limit` were admitted in the last `windowMs`; a refused
// request takes no slot. Checked before the route authenticates the device (an emulator choice).
import { z } from 'zod';
import { EmulatorHttpError, ErrorCodes } from './errors';
import type { RouteMatch } from './routing';
import type { StatsRecorder } from './stats';

const quotaWindowSchema = z.object({
  limit: z.number().int().min(1),
  windowMs: z.number().int().min(1).max(3_600_000),
});

export type QuotaWindow = z.output<typeof quotaWindowSchema>;

/** DPS's documented rates (learn.microsoft.com/azure/iot-dps/about-iot-dps#quotas-and-limits). */
export const DPS_QUOTAS = {
  registrations: { limit: 1000, windowMs: 60_000 },
  polls: { limit: 5, windowMs: 10_000 },
} as const satisfies Record<string, QuotaWindow>;

export const quotasSchema = z
  .union([
    z.literal(false),
    z.object({
      /** Register and status-lookup requests per instance; false: unlimited. Default: DPS's 1,000 per minute. */
      registrations: z.union([z.literal(false), quotaWindowSchema]).default(DPS_QUOTAS.registrations),
      /** Operation status polls per device; false: unlimited. Default: DPS's 5 per 10 seconds. */
      polls: z.union([z.literal(false), quotaWindowSchema]).default(DPS_QUOTAS.polls),
    }),
  ])
  .default(DPS_QUOTAS);

/** What a caller may pass: false (no quotas), or either quota as a window or false. */
export type QuotasOption = z.input<typeof quotasSchema>;
export type Quotas = z.output<typeof quotasSchema>;
export type QuotaKind = 'registrations' | 'polls';

export type Admission = { admitted: true } | { admitted: false; retryAfterMs: number };

/** Admission times per key over a sliding window; keys whose times have all expired are swept once a window. */
export class SlidingWindowLimiter {
  private readonly admittedAt = new Map<string, number[]>();
  private lastSweepMs = 0;

  constructor(private readonly window: QuotaWindow) {}

  /** Admits (and counts) a request of `key` at `nowMs`, or says how long until a slot frees. */
  tryAdmit(key: string, nowMs: number): Admission {
    this.sweep(nowMs);
    const expiredUpTo = nowMs - this.window.windowMs;
    const times = this.admittedAt.get(key) ?? [];
    while (times.length > 0 && times[0]! <= expiredUpTo) times.shift();
    if (times.length >= this.window.limit) {
      return { admitted: false, retryAfterMs: times[0]! + this.window.windowMs - nowMs };
    }
    times.push(nowMs);
    this.admittedAt.set(key, times);
    return { admitted: true };
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < this.window.windowMs) return;
    this.lastSweepMs = nowMs;
    const expiredUpTo = nowMs - this.window.windowMs;
    for (const [key, times] of this.admittedAt) {
      if ((times[times.length - 1] ?? 0) <= expiredUpTo) this.admittedAt.delete(key);
    }
  }
}

/** Device routes (with the method that reaches the handler) and the quota each counts against. */
const QUOTA_OF_ROUTE: Readonly<Record<string, QuotaKind>> = {
  'PUT device.register': 'registrations',
  // "Querying for the registration state counts as a new device registration" (docs/dps-contract.md §2.5).
  'POST device.statusLookup': 'registrations',
  'GET device.operationStatus': 'polls',
};

const DESCRIPTION: Record<QuotaKind, string> = {
  registrations: 'device registrations per DPS instance',
  polls: 'polling operations per device',
};

/** The case-insensitive registration id of a device path (`/{idScope}/registrations/{id}/...`), as a map key. */
function deviceKey(segments: readonly string[]): string {
  const segment = segments[2] ?? '';
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    id = segment; // the route answers the malformed id with a 400 once admitted
  }
  return `${(segments[0] ?? '').toLowerCase()}/${id.toLowerCase()}`;
}

/** Wraps the device routes that DPS rate-limits so that a request over a quota is a 429, counted in the stats. */
export class DeviceQuotaGuard {
  private readonly limiters: Partial<Record<QuotaKind, SlidingWindowLimiter>> = {};

  constructor(
    private readonly quotas: Quotas,
    private readonly stats: StatsRecorder,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (quotas === false) return;
    if (quotas.registrations) this.limiters.registrations = new SlidingWindowLimiter(quotas.registrations);
    if (quotas.polls) this.limiters.polls = new SlidingWindowLimiter(quotas.polls);
  }

  guard(method: string, segments: readonly string[], route: RouteMatch | undefined): RouteMatch | undefined {
    const kind = route && QUOTA_OF_ROUTE[`${method} ${route.name}`];
    if (!route || !kind || !this.limiters[kind]) return route;
    return {
      ...route,
      handle: (context) => {
        this.admit(kind, segments);
        return route.handle(context);
      },
    };
  }

  private admit(kind: QuotaKind, segments: readonly string[]): void {
    const limiter = this.limiters[kind];
    const window = this.quotas === false ? undefined : this.quotas[kind];
    if (!limiter || !window) return;
    const admission = limiter.tryAdmit(kind === 'polls' ? deviceKey(segments) : '', this.nowMs());
    if (admission.admitted) return;
    this.stats.quotaExceeded(kind);
    const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    throw new EmulatorHttpError(
      429,
      ErrorCodes.throttled,
      `Too many requests: at most ${window.limit} ${DESCRIPTION[kind]} per ${window.windowMs / 1000} s`,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}
