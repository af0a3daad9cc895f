// Which row changes are lifecycle events, and their ids: from the history row's keys, so the same change built
// again (a replayed page) has the same id; a refresh or a detail rewritten is no event.
import { problemEvent } from '../../src/events/audit-events';
import { allocationEvent } from '../../src/events/allocation-events';
import { parseCloudEvent } from '../../src/events/catalog';
import type { RowChange } from '../../src/audit/rows/problems';
import type { HistoryRow, ProblemRow } from '../../src/audit/rows/tables';
import type { DecisionRow } from '../../src/decisions/table';

const AT = new Date('2026-12-01T10:00:00.000Z');

const problem: ProblemRow = {
  partitionKey: 'fleet',
  rowKey: 'dev-1',
  registrationId: 'Dev-1',
  enrollmentKind: 'group',
  enrollmentId: 'Fleet',
  status: 'failed',
  errorCode: 400209,
  errorMessage: 'POST https://x.example.net/api/allocate?code=***',
  errorExplanation: 'webhook key rejected (?code=)',
  source: 'registration-state',
  firstSeen: AT,
  lastSeen: AT,
  open: true,
  historyStarted: true,
  lastScanId: 'scan-1',
};

const history = (from: string, to: string): HistoryRow => ({
  partitionKey: 'fleet',
  rowKey: `dev-1|${AT.toISOString()}|${from}>${to}`,
  registrationId: 'Dev-1',
  enrollmentKind: 'group',
  enrollmentId: 'Fleet',
  fromStatus: from,
  toStatus: to,
  at: AT,
  scanId: 'scan-1',
});

const wire = (event: object) => JSON.parse(JSON.stringify({ specversion: '1.0', ...event })) as unknown;

it('makes problem.opened of a new problem, with the same id when built again, and no secret field', () => {
  const change: RowChange = { kind: 'new', problem, history: [history('none', 'failed')] };
  const event = problemEvent(change, '/s')!;
  expect(event).toMatchObject({ type: 'dps-allocator.problem.opened', subject: 'Dev-1', time: AT });
  expect(problemEvent(structuredClone(change), '/s')!.id).toBe(event.id);
  expect(parseCloudEvent(wire(event)).data).toMatchObject({ reopened: false, errorCode: 400209 });
  expect(JSON.stringify(event)).not.toMatch(/code=/);
});

it('makes changed, resolved and nothing for a refresh or a change without a transition', () => {
  const changed = problemEvent(
    {
      kind: 'changed',
      problem: { ...problem, errorCode: 400207 },
      history: [history('failed', 'failed')],
      previous: { status: 'failed', errorCode: 400209 },
    },
    '/s',
  )!;
  expect(parseCloudEvent(wire(changed)).data).toMatchObject({
    previousStatus: 'failed',
    previousErrorCode: 400209,
  });
  const resolved = problemEvent(
    {
      kind: 'resolved',
      problem: { ...problem, open: false, resolution: 'assigned' },
      history: [history('failed', 'assigned')],
    },
    '/s',
  )!;
  expect(resolved.type).toBe('dps-allocator.problem.resolved');
  expect(problemEvent({ kind: 'refreshed', problem, history: [] }, '/s')).toBeUndefined();
  expect(problemEvent({ kind: 'changed', problem, history: [] }, '/s')).toBeUndefined();
});

it('tells assigned, moved and rejected decisions apart, hubs compared without case', () => {
  const row: DecisionRow = {
    partitionKey: '2026-12-01',
    rowKey: `${AT.toISOString()}|dev-1|abc`,
    at: AT,
    registrationId: 'Dev-1',
    outcome: 'assigned',
    status: 200,
    hub: 'hub-a.azure-devices.net',
    reason: 'ok',
    latencyMs: 1,
    candidateCount: 2,
  };
  expect(allocationEvent(row, undefined, '/s').type).toBe('dps-allocator.device.assigned');
  expect(allocationEvent(row, 'HUB-A.azure-devices.net', '/s').type).toBe('dps-allocator.device.assigned');
  const moved = allocationEvent(row, 'hub-b.azure-devices.net', '/s');
  expect(moved.type).toBe('dps-allocator.device.moved');
  expect(moved.id).toBe(allocationEvent({ ...row }, 'hub-b.azure-devices.net', '/s').id);
  const invalid = allocationEvent(
    { ...row, registrationId: undefined, outcome: 'invalid-request', status: 400, hub: undefined },
    undefined,
    '/s',
  );
  expect(invalid).toMatchObject({
    type: 'dps-allocator.allocation.rejected',
    data: { outcome: 'invalid-request' },
  });
  expect(invalid).not.toHaveProperty('subject');
});
