// The hub-load table `${AUDIT_TABLE_PREFIX}HubLoad`: one row per hub in one partition, keyed by the escaped lower-case
// host name. A row holds the hub's last registry statistics and when they were read; a failed read leaves them
// (they go stale) and records why, redacted. Never a key or a token.
import { z } from 'zod';
import { redactSecrets } from '../dps/redact';
import { idKey } from '../storage/keys';
import { tableName } from '../storage/table-names';
import type { DeviceStatistics } from './statistics';

export const HUB_LOAD_PARTITION = 'hubs';
/** Longest error text kept in a row. */
const MAX_ERROR_LENGTH = 500;

export function hubLoadTableName(prefix: string): string {
  return tableName(prefix, 'HubLoad');
}

/** Read back with this schema: bookkeeping properties dropped, a row edited out of shape skipped. */
export const hubLoadRowSchema = z.object({
  partitionKey: z.literal(HUB_LOAD_PARTITION),
  rowKey: z.string(),
  /** Lower case. */
  hostName: z.string().min(1),
  totalDeviceCount: z.number().int().min(0).optional(),
  enabledDeviceCount: z.number().int().min(0).optional(),
  disabledDeviceCount: z.number().int().min(0).optional(),
  /** When the counts were read; absent until a read succeeds. */
  readAt: z.date().optional(),
  /** When the timer last tried the hub. */
  attemptedAt: z.date(),
  /** Why the last attempt failed (redacted); absent after a success. */
  lastError: z.string().optional(),
});
export type HubLoadRow = z.infer<typeof hubLoadRowSchema>;

/** The row of a hub whose statistics were just read. */
export function readRow(hostName: string, statistics: DeviceStatistics, at: Date): HubLoadRow {
  const host = hostName.toLowerCase();
  return {
    partitionKey: HUB_LOAD_PARTITION,
    rowKey: idKey(host),
    hostName: host,
    ...statistics,
    readAt: at,
    attemptedAt: at,
  };
}

/** The row of a hub that could not be read: its last counts and readAt kept, the error recorded. */
export function failedRow(
  hostName: string,
  previous: HubLoadRow | undefined,
  error: string,
  at: Date,
): HubLoadRow {
  const host = hostName.toLowerCase();
  return {
    ...previous,
    partitionKey: HUB_LOAD_PARTITION,
    rowKey: idKey(host),
    hostName: host,
    attemptedAt: at,
    lastError: redactSecrets(error.replace(/\s*\n\s*/g, ' ')).slice(0, MAX_ERROR_LENGTH),
  };
}

/** The rows of raw entities that fit the schema. */
export function hubLoadRows(entities: readonly unknown[]): HubLoadRow[] {
  return entities.flatMap((entity) => {
    const parsed = hubLoadRowSchema.safeParse(entity);
    return parsed.success ? [parsed.data] : [];
  });
}
