// The dashboard's audit views against Azurite: problem counts by status, error code and enrollment (open only;
// resolved in the last day counted apart), and the newest transitions across devices (history rows plus first
// sightings that are not in the history yet), through the read functions and the HTTP handlers (parameters,
// 400 naming the parameter, 503 on storage trouble, hostile values returned as plain data).
import { startAzurite, type Azurite } from '../../../dev/azurite';
import { explainErrorCode } from '../../../src/audit/rows/error-codes';
import { createAuditApi } from '../../../src/audit/read/http-api';
import type { JsonApiRequest } from '../../../src/http/json-api';
import type { JsonAnswer } from '../../../src/http/response';
import {
  MAX_TRANSITION_ROWS_READ,
  NO_ERROR_CODE_EXPLANATION,
  problemSummary,
  recentTransitions,
} from '../../../src/audit/read/overview';
import { AuditStore } from '../../../src/audit/store';
import type { HistoryRow, ProblemRow } from '../../../src/audit/rows/tables';
import { storeOn } from '../support/environment';
import { historyRow, problemRow } from '../support/rows';
import { closedPort } from '../../support/closed-port';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);
const HOSTILE_GROUP = '<img src=x onerror="alert(1)">';

let azurite: Azurite;
let store: AuditStore;

const problem = (group: string | undefined, id: string, fields: Partial<ProblemRow> = {}) =>
  problemRow(group, id, { firstSeen: new Date(NOW - 2 * HOUR), lastSeen: new Date(NOW - HOUR) }, fields);

/** A first sighting carries the problem's error code. */
const transition = (row: ProblemRow, from: string, to: string, at: number) =>
  historyRow(row, from, to, at, { errorCode: from === 'none' ? row.errorCode : undefined });

const RESOLVED_TODAY = problem('Fleet-A', 'a-9', {
  open: false,
  resolvedAt: new Date(NOW - 3 * HOUR),
  resolution: 'assigned',
  historyStarted: true,
  firstSeen: new Date(NOW - 30 * HOUR),
});
const RESOLVED_LONG_AGO = problem('Fleet-A', 'a-8', {
  open: false,
  resolvedAt: new Date(NOW - 30 * HOUR),
  resolution: 'deleted',
  historyStarted: true,
  firstSeen: new Date(NOW - 40 * HOUR),
});
/** Open, and its history started: its first sighting is a history row, not rebuilt from the problem row. */
const CHANGED = problem('fleet-b', 'b-1', {
  status: 'unassigned',
  errorCode: undefined,
  historyStarted: true,
  firstSeen: new Date(NOW - 5 * HOUR),
});

const ROWS: ProblemRow[] = [
  problem('Fleet-A', 'a-1', { firstSeen: new Date(NOW - 1 * HOUR) }),
  problem('Fleet-A', 'a-2', { errorCode: 400209, firstSeen: new Date(NOW - 26 * HOUR) }),
  problem('Fleet-A', 'a-3', { status: 'disabled', errorCode: undefined }),
  CHANGED,
  problem('fleet-b', 'b-2', { errorCode: 400209 }),
  problem('fleet-b', 'b-3', { status: 'assigning', errorCode: undefined }),
  problem(undefined, 'Single-1', { errorCode: 401002 }),
  problem(undefined, 'Single-2', { status: 'unassigned', errorCode: undefined }),
  problem(HOSTILE_GROUP, "<script>alert('x')</script>", { errorCode: 400208 }),
  RESOLVED_TODAY,
  RESOLVED_LONG_AGO,
];

const HISTORY: HistoryRow[] = [
  transition(RESOLVED_TODAY, 'none', 'failed', NOW - 30 * HOUR),
  transition(RESOLVED_TODAY, 'failed', 'assigned', NOW - 3 * HOUR),
  transition(RESOLVED_LONG_AGO, 'none', 'failed', NOW - 40 * HOUR),
  transition(RESOLVED_LONG_AGO, 'failed', 'deleted', NOW - 30 * HOUR),
  transition(CHANGED, 'none', 'failed', NOW - 5 * HOUR),
  transition(CHANGED, 'failed', 'unassigned', NOW - 4 * HOUR),
];

const request = (query = '', route = 'summary'): JsonApiRequest => ({
  url: `http://127.0.0.1/api/audit/${route}?${query}`,
  query: new URLSearchParams(query),
  params: {},
});
const log = { warn: () => undefined, error: () => undefined };
const api = () => createAuditApi({ store: () => store, now: () => NOW });

beforeAll(async () => {
  azurite = await startAzurite();
  store = storeOn(azurite);
  await store.ensureTables();
  await store.upsert('problems', ROWS);
  await store.upsert('history', HISTORY);
});

afterAll(async () => {
  await azurite?.stop();
});

describe('problemSummary', () => {
  it('counts the open problems by status, error code and enrollment, and the problems resolved in the last day', async () => {
    const summary = await problemSummary(store, NOW);
    expect(summary.open).toBe(9);
    expect(summary.resolvedRecently).toBe(1);
    expect(summary.resolvedSince).toEqual(new Date(NOW - 24 * HOUR));
    expect(summary.at).toEqual(new Date(NOW));
    expect(summary.byStatus).toEqual([
      { status: 'failed', count: 5 },
      { status: 'unassigned', count: 2 },
      { status: 'disabled', count: 1 },
      { status: 'assigning', count: 1 },
    ]);
    expect(summary.byErrorCode).toEqual([
      { errorCode: null, count: 4, explanation: NO_ERROR_CODE_EXPLANATION },
      { errorCode: 400209, count: 2, explanation: explainErrorCode(400209) },
      { errorCode: 400207, count: 1, explanation: explainErrorCode(400207) },
      { errorCode: 400208, count: 1, explanation: explainErrorCode(400208) },
      { errorCode: 401002, count: 1, explanation: explainErrorCode(401002) },
    ]);
    expect(summary.byGroup).toEqual([
      { enrollmentKind: 'group', enrollmentId: 'Fleet-A', count: 3 },
      { enrollmentKind: 'group', enrollmentId: 'fleet-b', count: 3 },
      { enrollmentKind: 'individual', enrollmentId: null, count: 2 },
      { enrollmentKind: 'group', enrollmentId: HOSTILE_GROUP, count: 1 },
    ]);
    expect(summary.groupsWithProblems).toBe(4);
  });

  it('reads only the columns it needs', async () => {
    const calls: unknown[] = [];
    const client = store.client('problems');
    const original = client.listEntities.bind(client);
    const spy = jest.spyOn(client, 'listEntities').mockImplementation((options) => {
      calls.push(options?.queryOptions);
      return original(options);
    });
    try {
      await problemSummary(store, NOW);
    } finally {
      spy.mockRestore();
    }
    expect(calls).toEqual([
      {
        filter: 'open eq true',
        select: ['PartitionKey', 'status', 'errorCode', 'enrollmentKind', 'enrollmentId'],
      },
      {
        filter: expect.stringMatching(/^open eq false and resolvedAt ge datetime'2026-06-09T12:00:00/),
        select: ['PartitionKey'],
      },
    ]);
  });

  it('is all zeros before the first scan (no tables yet)', async () => {
    const summary = await problemSummary(storeOn(azurite), NOW);
    expect(summary).toMatchObject({
      open: 0,
      resolvedRecently: 0,
      byErrorCode: [],
      byGroup: [],
      groupsWithProblems: 0,
    });
    expect(summary.byStatus.every((entry) => entry.count === 0)).toBe(true);
  });
});

describe('recentTransitions', () => {
  const brief = (items: { registrationId: string; fromStatus: string; toStatus: string }[]) =>
    items.map((item) => `${item.registrationId} ${item.fromStatus}>${item.toStatus}`);

  it('lists history rows and unchanged first sightings since a time, newest first', async () => {
    const result = await recentTransitions(store, { since: new Date(NOW - 24 * HOUR), limit: 50 });
    expect(result.truncated).toBe(false);
    expect(brief(result.items)).toEqual([
      // First sightings two hours ago (a-1 one hour ago): same time, ordered by key, descending.
      'a-1 none>failed',
      ...[
        'Single-2 none>unassigned',
        'Single-1 none>failed',
        'b-3 none>assigning',
        'b-2 none>failed',
        'a-3 none>disabled',
        "<script>alert('x')</script> none>failed",
      ],
      'a-9 failed>assigned',
      'b-1 failed>unassigned',
      'b-1 none>failed',
    ]);
    const times = result.items.map((item) => item.at.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(result.items.find((item) => item.registrationId === 'b-2')).toEqual({
      at: new Date(NOW - 2 * HOUR),
      registrationId: 'b-2',
      enrollmentKind: 'group',
      enrollmentId: 'fleet-b',
      fromStatus: 'none',
      toStatus: 'failed',
      errorCode: 400209,
    });
  });

  it('keeps the newest `limit` and the window', async () => {
    const result = await recentTransitions(store, { since: new Date(NOW - 4.5 * HOUR), limit: 2 });
    expect(brief(result.items)).toEqual(['a-1 none>failed', expect.stringMatching(/ none>/)]);
    const window = await recentTransitions(store, { since: new Date(NOW - 3.5 * HOUR), limit: 50 });
    expect(brief(window.items)).toContain('a-9 failed>assigned');
    expect(brief(window.items)).not.toContain('b-1 failed>unassigned');
  });

  it('says when the read cap cut the scan short', async () => {
    const big = storeOn(azurite);
    await big.ensureTables();
    const many = Array.from({ length: MAX_TRANSITION_ROWS_READ + 10 }, (_, i) =>
      problem('bulk', `bulk-${String(i).padStart(5, '0')}`, { firstSeen: new Date(NOW - i * 1000) }),
    );
    await big.upsert('problems', many);
    const result = await recentTransitions(big, { since: new Date(NOW - 24 * HOUR), limit: 3 });
    expect(result.truncated).toBe(true);
    expect(result.items).toHaveLength(3);
  }, 60_000);
});

describe('GET /api/audit/summary and /api/audit/transitions', () => {
  const json = (answer: JsonAnswer) => JSON.parse(JSON.stringify(answer.jsonBody)) as Record<string, unknown>;

  it('answers the summary as JSON with hostile ids as plain data', async () => {
    const answer = await api().summary(request(), log);
    expect(answer.status).toBe(200);
    expect(answer.headers['Cache-Control']).toBe('no-store');
    const body = json(answer);
    expect(body).toMatchObject({ open: 9, resolvedRecently: 1, at: new Date(NOW).toISOString() });
    expect(body.byGroup).toContainEqual({ enrollmentKind: 'group', enrollmentId: HOSTILE_GROUP, count: 1 });
  });

  it('answers transitions with defaults (24 h, 50) and the given since and limit', async () => {
    const answer = json(await api().transitions(request('', 'transitions'), log));
    expect(answer.since).toBe(new Date(NOW - 24 * HOUR).toISOString());
    expect(answer.items).toHaveLength(10);
    const limited = json(await api().transitions(request('since=3h&limit=1', 'transitions'), log));
    expect(limited).toMatchObject({ since: new Date(NOW - 3 * HOUR).toISOString(), truncated: false });
    expect(limited.items).toEqual([expect.objectContaining({ registrationId: 'a-1' })]);
  });

  it('answers a bad parameter with a 400 naming it', async () => {
    const cases: Array<[keyof ReturnType<typeof api>, string, string, RegExp]> = [
      ['summary', 'status=failed', 'status', /unknown parameter 'status'; it takes no parameters/],
      ['transitions', 'limit=0', 'limit', /limit must be a whole number from 1 to 500/],
      ['transitions', 'limit=501', 'limit', /limit/],
      ['transitions', 'since=yesterday', 'since', /since must be a duration back from now/],
      ['transitions', 'since=1h&since=2h', 'since', /given more than once/],
      ['transitions', 'group=x', 'group', /unknown parameter 'group'; known parameters: since, limit/],
    ];
    for (const [handler, query, parameter, message] of cases) {
      const answer = await api()[handler](request(query, handler), log);
      expect({
        query,
        status: answer.status,
        parameter: (answer.jsonBody as { parameter: string }).parameter,
      }).toEqual({
        query,
        status: 400,
        parameter,
      });
      expect((answer.jsonBody as { error: string }).error).toMatch(message);
    }
    // The function key is the host's, not a parameter.
    expect((await api().summary(request('code=secret'), log)).status).toBe(200);
  });

  it('answers 503 with Retry-After when storage cannot be read', async () => {
    const port = await closedPort();
    const dead = new AuditStore({
      connection: {
        kind: 'connectionString',
        connectionString: azurite.connectionString.replace(/:\d+\//, `:${port}/`),
      },
      retry: { maxRetries: 0, retryDelayInMs: 10, maxRetryDelayInMs: 20 },
    });
    const deadApi = createAuditApi({ store: () => dead, now: () => NOW });
    for (const call of [deadApi.summary, deadApi.transitions]) {
      const answer = await call(request(), log);
      expect(answer).toMatchObject({
        status: 503,
        jsonBody: { retryable: true },
        headers: { 'Retry-After': '30' },
      });
      expect(JSON.stringify(answer.jsonBody)).not.toMatch(/ECONNREFUSED|\.ts:\d+/);
    }
  });
});
