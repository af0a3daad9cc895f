// Allocate's lifecycle events, from the decision row (src/decisions/table.ts: its keys name the decision, so the
// id is the same whether or not the decision log stores the row) and the hub the device was on when it asked.
import type { DecisionRow } from '../decisions/table';
import type { LifecycleEvent } from './catalog';
import { compact } from './compact';
import { eventId } from './ids';
import { eventText } from './scrub';

const sameHub = (a: string | undefined, b: string | undefined) => a?.toLowerCase() === b?.toLowerCase();

export function allocationEvent(
  row: DecisionRow,
  previousHub: string | undefined,
  source: string,
): LifecycleEvent {
  const data = compact({
    registrationId: row.registrationId,
    enrollmentKind: row.enrollmentKind,
    enrollmentId: row.enrollmentId,
    status: row.status,
    hub: row.hub,
    previousHub,
    assignment: row.assignment,
    rule: row.rule,
    strategy: row.strategy,
    reason: eventText(row.reason), // safeReason already: no payload values, no secrets
  });
  const base = {
    source,
    subject: row.registrationId || undefined,
    time: row.at,
    datacontenttype: 'application/json' as const,
  };
  const identity = [row.partitionKey, row.rowKey];
  if (row.outcome === 'assigned' && row.hub !== undefined) {
    const moved = previousHub !== undefined && !sameHub(previousHub, row.hub);
    if (moved) {
      const type = 'dps-allocator.device.moved' as const;
      return compact({
        ...base,
        id: eventId(type, ...identity),
        type,
        data: { ...data, outcome: 'assigned' as const, hub: row.hub, previousHub },
      });
    }
    const type = 'dps-allocator.device.assigned' as const;
    return compact({
      ...base,
      id: eventId(type, ...identity),
      type,
      data: { ...data, outcome: 'assigned' as const, hub: row.hub },
    });
  }
  const type = 'dps-allocator.allocation.rejected' as const;
  const outcome = row.outcome === 'assigned' ? 'rejected' : row.outcome;
  return compact({ ...base, id: eventId(type, ...identity), type, data: { ...data, outcome } });
}
