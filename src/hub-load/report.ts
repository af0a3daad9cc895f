// How full each hub is, as `npm run audit -- hubs` and GET /api/hubs show it: the hub-load timer's counts (the
// HubLoad table) next to the cap and drain flag of the allocation policy's `hubs`. Pure: the callers read both.
import type { Policy } from '../allocation/policy-schema';
import type { HubLoadRow } from './table';

export interface HubCapacity {
  alias: string;
  maxDevices: number | undefined;
  drain: boolean;
}

export interface HubReportEntry {
  hostName: string;
  /** The policy's alias of the hub; null when the policy does not name it. */
  alias: string | null;
  /** In HUB_LOAD_HUBS: the timer reads it and allocation uses its count. */
  counted: boolean;
  /** Total devices (enabled and disabled) at readAt; null before the first successful read. */
  devices: number | null;
  enabledDevices: number | null;
  disabledDevices: number | null;
  /** The policy's cap (`maxDevices`); null without one. */
  maxDevices: number | null;
  /** devices / maxDevices; null without both. */
  fill: number | null;
  /** The policy's `drain`: the hub takes no new device. */
  drain: boolean;
  /** When the count was read (ISO); null: never. */
  readAt: string | null;
  ageSeconds: number | null;
  /** No count, or older than HUB_LOAD_MAX_AGE_SECONDS: capacity-aware strategies fall back to the hash. */
  stale: boolean;
  /** Why the timer's last read failed (redacted); null when it succeeded. */
  lastError: string | null;
  /** When the timer last tried the hub (ISO). */
  attemptedAt: string | null;
}

export interface HubsReport {
  at: string;
  maxAgeSeconds: number;
  hubs: HubReportEntry[];
  /** Why the policy could not be read (caps and drain flags then unknown); absent when it could. */
  policyError?: string;
}

/** The policy's caps and drain flags by lower-case host name (the first alias of a host wins). */
export function policyCapacities(policy: Policy): Map<string, HubCapacity> {
  const capacities = new Map<string, HubCapacity>();
  for (const [alias, hub] of Object.entries(policy.hubs)) {
    const host = hub.hostName.toLowerCase();
    if (capacities.has(host)) continue;
    capacities.set(host, { alias, maxDevices: hub.maxDevices, drain: hub.drain === true });
  }
  return capacities;
}

export interface HubsReportInput {
  rows: readonly HubLoadRow[];
  capacities: ReadonlyMap<string, HubCapacity>;
  /** HUB_LOAD_HUBS. */
  counted: readonly string[];
  maxAgeMs: number;
  now: number;
  policyError?: string;
}

/** Every hub that is counted, in the policy or in the table, by host name. */
export function hubsReport(input: HubsReportInput): HubsReport {
  const rows = new Map(input.rows.map((row) => [row.hostName.toLowerCase(), row]));
  const counted = new Set(input.counted.map((host) => host.toLowerCase()));
  const hosts = [...new Set([...counted, ...input.capacities.keys(), ...rows.keys()])].sort();
  const hubs = hosts.map((hostName): HubReportEntry => {
    const row = rows.get(hostName);
    const capacity = input.capacities.get(hostName);
    const devices = row?.readAt === undefined ? null : (row.totalDeviceCount ?? null);
    const maxDevices = capacity?.maxDevices ?? null;
    const ageMs = row?.readAt === undefined ? null : Math.max(0, input.now - row.readAt.getTime());
    return {
      hostName,
      alias: capacity?.alias ?? null,
      counted: counted.has(hostName),
      devices,
      enabledDevices: devices === null ? null : (row?.enabledDeviceCount ?? null),
      disabledDevices: devices === null ? null : (row?.disabledDeviceCount ?? null),
      maxDevices,
      fill: devices === null || maxDevices === null ? null : devices / maxDevices,
      drain: capacity?.drain ?? false,
      readAt: row?.readAt?.toISOString() ?? null,
      ageSeconds: ageMs === null ? null : Math.round(ageMs / 1000),
      stale: ageMs === null || ageMs > input.maxAgeMs,
      lastError: row?.lastError ?? null,
      attemptedAt: row?.attemptedAt.toISOString() ?? null,
    };
  });
  return {
    at: new Date(input.now).toISOString(),
    maxAgeSeconds: Math.round(input.maxAgeMs / 1000),
    hubs,
    ...(input.policyError === undefined ? {} : { policyError: input.policyError }),
  };
}
