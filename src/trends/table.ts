// The daily roll-up table `${AUDIT_TABLE_PREFIX}Trends`: PartitionKey `problems` or `allocations`, RowKey the UTC
// day `YYYY-MM-DD` (so a window is one RowKey range per partition). Counts are Edm.Int32; the breakdowns are JSON
// objects in string properties, each capped at MAX_MAP_KEYS keys so a row stays far below the 64 KiB a property
// may hold (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model).
import { z } from 'zod';
import { tableName } from '../storage/table-names';

export function trendsTableName(prefix: string): string {
  return tableName(prefix, 'Trends');
}

export const PROBLEMS_PARTITION = 'problems';
export const ALLOCATIONS_PARTITION = 'allocations';
export type TrendsPartition = typeof PROBLEMS_PARTITION | typeof ALLOCATIONS_PARTITION;

/**
 * A breakdown keeps its biggest keys; the rest are summed under OTHER_KEY. Keys are ids of at most 128 characters
 * (enrollment ids, hub host names, error codes, statuses), so a map stays under ~7,000 characters (a property
 * holds 32K UTF-16 ones) and a row of seven far below the 1 MiB of an entity. A DPS links at most 50 hubs, so
 * byHub is never cut in practice
 * (https://learn.microsoft.com/azure/iot-dps/about-iot-dps#quotas-and-limits).
 */
export const MAX_MAP_KEYS = 50;
/** In parentheses, like `(none)`, so it cannot be an enrollment id or a hub host name. */
export const OTHER_KEY = '(other)';

const count = z.number().int().min(0);
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

// Read back with these schemas: bookkeeping properties (etag, timestamp) are dropped and a row edited out of shape
// is treated as absent, so the next refresh rewrites it.
export const problemTrendRowSchema = z.object({
  partitionKey: z.literal(PROBLEMS_PARTITION),
  rowKey: day,
  openedTotal: count,
  resolvedTotal: count,
  openedByStatus: z.string(),
  openedByErrorCode: z.string(),
  openedByEnrollment: z.string(),
  resolvedByStatus: z.string(),
  resolvedByErrorCode: z.string(),
  resolvedByEnrollment: z.string(),
  resolvedByResolution: z.string(),
  updatedAt: z.date(),
});
export type ProblemTrendRow = z.infer<typeof problemTrendRowSchema>;

export const allocationTrendRowSchema = z.object({
  partitionKey: z.literal(ALLOCATIONS_PARTITION),
  rowKey: day,
  total: count,
  byOutcome: z.string(),
  byHub: z.string(),
  updatedAt: z.date(),
});
export type AllocationTrendRow = z.infer<typeof allocationTrendRowSchema>;

export type TrendRow = ProblemTrendRow | AllocationTrendRow;

export type CountMap = Record<string, number>;

const countMapSchema = z.record(z.string(), count);

/** A stored breakdown; a property that is not a JSON object of counts reads as empty. */
export function parseCountMap(text: string): CountMap {
  try {
    const parsed = countMapSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** At most MAX_MAP_KEYS keys: the biggest (ties by key) and OTHER_KEY holding the sum of the rest. */
export function capCountMap(counts: ReadonlyMap<string, number> | CountMap): CountMap {
  const entries = (counts instanceof Map ? [...counts] : Object.entries(counts)).filter(([, n]) => n > 0);
  entries.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const kept = entries.length > MAX_MAP_KEYS ? entries.slice(0, MAX_MAP_KEYS - 1) : entries;
  const capped: CountMap = {};
  for (const [key, n] of kept) capped[key] = n;
  const rest = entries.slice(kept.length).reduce((sum, [, n]) => sum + n, 0);
  if (rest > 0) capped[OTHER_KEY] = (capped[OTHER_KEY] ?? 0) + rest;
  return capped;
}

/** Keys sorted, so that equal counts always give equal strings (the refresh compares them). */
export function countMapJson(counts: CountMap): string {
  const sorted: CountMap = {};
  for (const key of Object.keys(counts).sort()) sorted[key] = counts[key]!;
  return JSON.stringify(sorted);
}
