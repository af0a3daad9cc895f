// Event ids are derived from the fact they report, never random (docs/events-contract.md §1: source + id names one
// fact, a re-publish reuses the id): a page the audit replays after a crash builds the same rows, keyed the same
// way, and so the same ids; subscribers de-duplicate by source + id (§3, docs/events.md "Ids").
import { createHash } from 'node:crypto';
import type { EventType } from './catalog';

/** sha-256 (64 hex digits) of the type and the fact's identity (e.g. a history row's PartitionKey and RowKey). */
export function eventId(type: EventType, ...identity: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify([type, ...identity]))
    .digest('hex');
}
