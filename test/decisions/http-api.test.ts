// The decision log end to end through the local Functions host and Azurite: allocations POSTed to the real allocate
// function become rows with the right fields; with Azurite stopped the webhook still answers with the right hub and
// the row is written once Azurite is back; GET /api/decisions and /api/decisions/summary filter, page, refuse bad
// parameters with a 400 naming them and answer a 503 while storage is down.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type Azurite } from '../../dev/azurite';
import type { FunctionsHost } from '../../dev/functions-host';
import { serveFunctions } from '../support/serve-functions';
import { readSettings } from '../../src/settings';
import { decisionRowFrom } from '../../src/decisions/table';
import { openDecisionSink } from '../../src/decisions/table-sink';
import type { DecisionSummary, DecisionView } from '../../src/decisions/views';
import { DecisionWriter } from '../../src/decisions/writer';
import { eventually, groupRequest, HEATPUMPS_HUB, recordNotices, TOASTERS_HUB } from './support/decision-log';

const KEY = 'decisions-api-test-key';
const PREFIX = 'HostDecisions';
const SETTINGS = ['AUDIT_STORAGE_CONNECTION_STRING', 'AUDIT_TABLE_PREFIX', 'DECISION_LOG_ENABLED'] as const;
const saved = Object.fromEntries(SETTINGS.map((name) => [name, process.env[name]]));

let azurite: Azurite;
let dataDir: string;
let host: FunctionsHost;
/** The decision log's notices: outside invocations it writes to the console. */
const notices: string[] = [];

interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

interface ListBody {
  items: DecisionView[];
  continuationToken: string | null;
  next: string | null;
}

async function get<T = ListBody>(pathAndQuery: string, withKey = true): Promise<Answer<T>> {
  const response = await fetch(`${host.baseUrl}${pathAndQuery.replace(host.baseUrl, '')}`, {
    headers: withKey ? { 'x-functions-key': KEY } : {},
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

async function allocate(body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${host.functionUrl('allocate')}?code=${KEY}`, { method: 'POST', body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Decisions of the last few minutes, for registration ids starting with `prefix`. */
async function recent(prefix: string): Promise<DecisionView[]> {
  const answer = await get('/api/decisions?since=10m&limit=1000');
  expect(answer.status).toBe(200);
  return answer.body.items.filter((item) => item.registrationId.startsWith(prefix));
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'decisions-api-'));
  azurite = await startAzurite({ dataDir });
  process.env.AUDIT_STORAGE_CONNECTION_STRING = azurite.connectionString;
  process.env.AUDIT_TABLE_PREFIX = PREFIX;
  delete process.env.DECISION_LOG_ENABLED;
  jest
    .spyOn(console, 'info')
    .mockImplementation((message?: unknown) => notices.push(`info: ${String(message)}`));
  jest
    .spyOn(console, 'warn')
    .mockImplementation((message?: unknown) => notices.push(`warn: ${String(message)}`));
  host = await serveFunctions(['allocate', 'decisions', 'decisions-summary'], KEY);
});

afterAll(async () => {
  await host?.stop(); // runs the app's terminate hook: the decision log stops
  await azurite?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  jest.restoreAllMocks();
  for (const name of SETTINGS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('allocate records its decisions', () => {
  it('writes a row per decision with what was decided, oldest first', async () => {
    const toaster = await allocate(groupRequest('a-kitchen-contoso-tstrsd-001'));
    const heatpump = await allocate(
      groupRequest('a-kitchen-contoso-hpsd-002', { currentHub: HEATPUMPS_HUB }),
    );
    const noHub = await allocate(groupRequest('a-attic-contoso-hpsd-003', { linkedHubs: [TOASTERS_HUB] }));
    const broken = await allocate('{"deviceRuntimeContext":');
    expect([toaster.status, heatpump.status, noHub.status, broken.status]).toEqual([200, 200, 400, 400]);
    expect(toaster.body.iotHubHostName).toBe(TOASTERS_HUB);

    const rows = await eventually(
      () => recent('a-'),
      (items) => items.length >= 3,
    );
    expect(rows).toEqual([
      {
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        registrationId: 'a-kitchen-contoso-tstrsd-001',
        enrollmentKind: 'group',
        enrollmentId: 'contoso-custom-allocated-devices',
        outcome: 'assigned',
        hub: TOASTERS_HUB,
        rule: 'toasters',
        strategy: 'hashed',
        assignment: 'initial',
        reason: expect.stringContaining('hashed'),
        latencyMs: expect.any(Number),
      },
      expect.objectContaining({
        registrationId: 'a-kitchen-contoso-hpsd-002',
        outcome: 'assigned',
        hub: HEATPUMPS_HUB,
        rule: 'heatpumps',
        assignment: 'reprovision',
        reason: expect.stringContaining('sticky'),
      }),
      expect.objectContaining({
        registrationId: 'a-attic-contoso-hpsd-003',
        outcome: 'rejected',
        hub: null,
        rule: 'heatpumps',
        reason: expect.stringContaining('none of [*-heatpumps-*] is linked'),
      }),
    ]);
    const invalid = (await get('/api/decisions?since=10m&outcome=invalid-request')).body.items;
    expect(invalid).toEqual([
      expect.objectContaining({
        registrationId: '',
        enrollmentKind: null,
        enrollmentId: null,
        hub: null,
        reason: expect.stringContaining('not valid JSON'),
      }),
    ]);
    expect(JSON.stringify([rows, invalid])).not.toMatch(/code=|secret-function-key/);
  });

  it('answers with the right hub while Azurite is stopped, and writes the row once it is back', async () => {
    await azurite.interrupt();
    try {
      const answer = await allocate(groupRequest('b-outage-contoso-tstrsd-001'));
      expect(answer).toEqual({
        status: 200,
        body: expect.objectContaining({ iotHubHostName: TOASTERS_HUB }),
      });
      const unreadable = await get('/api/decisions?since=10m');
      expect(unreadable.status).toBe(503);
      expect(unreadable.headers.get('retry-after')).toBe('30');
      expect(unreadable.headers.get('cache-control')).toBe('no-store');
      expect(unreadable.body).toMatchObject({ retryable: true });
      expect((await get('/api/decisions/summary')).status).toBe(503);
    } finally {
      await azurite.restart();
    }
    const rows = await eventually(
      () => recent('b-'),
      (items) => items.length > 0,
    );
    expect(rows).toEqual([
      expect.objectContaining({ registrationId: 'b-outage-contoso-tstrsd-001', hub: TOASTERS_HUB }),
    ]);
    // One warning for the outage, one line when it ended.
    await eventually(
      async () => notices.length,
      (count) => count >= 2,
    );
    expect(notices).toEqual([
      expect.stringMatching(/^warn: Decision log: cannot write to .*HostDecisionsDecisions \(/),
      expect.stringMatching(/^info: Decision log: writing to .* again after .*none lost/),
    ]);
  });

  it('counts the recent decisions per outcome and hub', async () => {
    const answer = await get<DecisionSummary>('/api/decisions/summary');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({
      since: expect.any(String),
      until: expect.any(String),
      total: 5,
      outcomes: { assigned: 3, rejected: 1, 'invalid-request': 1 },
      hubs: [
        { hub: TOASTERS_HUB, count: 2 },
        { hub: HEATPUMPS_HUB, count: 1 },
      ],
    });
    expect(Date.parse(answer.body.until) - Date.parse(answer.body.since)).toBe(3_600_000);
  });
});

describe('GET /api/decisions over a seeded day boundary', () => {
  const START = Date.parse('2026-01-01T23:59:45.000Z');
  const hubs = ['hub-a.azure-devices.net', 'hub-b.azure-devices.net'];
  const range = 'since=2026-01-01T23:59:00Z&until=2026-01-02T00:01:00Z';

  beforeAll(async () => {
    const settings = readSettings({
      AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AUDIT_TABLE_PREFIX: PREFIX,
    });
    const writer = new DecisionWriter(openDecisionSink(settings, {}), {
      maxWaitMs: 5_000,
      maxQueue: 1_000,
      notices: recordNotices(),
    });
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writer.record(
          decisionRowFrom(
            {
              event: 'allocation',
              outcome: i % 10 === 9 ? 'rejected' : 'assigned',
              status: i % 10 === 9 ? 400 : 200,
              registrationId: `seed-${String(i).padStart(2, '0')}`,
              enrollment: { kind: 'individual', id: `seed-${String(i).padStart(2, '0')}` },
              assignment: 'initial',
              rule: 'seeded',
              strategy: 'static',
              candidates: hubs,
              hub: i % 10 === 9 ? undefined : hubs[i % 3 === 0 ? 1 : 0],
              reason: 'seeded',
              latencyMs: 0.01,
            },
            new Date(START + i * 1000),
          ),
        ),
      ),
    );
    expect(new Set(outcomes)).toEqual(new Set(['written']));
    await writer.close();
  });

  const seeded = (items: DecisionView[]) => items.map((item) => item.registrationId);
  const all = Array.from({ length: 30 }, (_, i) => `seed-${String(i).padStart(2, '0')}`);

  it('pages through the range oldest first, across the partitions, following next', async () => {
    const seen: string[] = [];
    let url: string | null = `/api/decisions?${range}&limit=7&code=${KEY}`;
    let pages = 0;
    while (url !== null) {
      const answer: Answer<ListBody> = await get(url);
      expect(answer.status).toBe(200);
      expect(answer.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...seeded(answer.body.items));
      url = answer.body.next;
      if (url !== null) {
        const next = new URL(url);
        expect(next.searchParams.has('code')).toBe(false);
        expect(next.searchParams.get('limit')).toBe('7');
        expect(next.searchParams.get('continuationToken')).toBe(answer.body.continuationToken);
      }
      pages++;
    }
    expect(seen).toEqual(all);
    expect(pages).toBe(5);
  });

  it('filters by hub, outcome and time', async () => {
    const byHub = (await get(`/api/decisions?${range}&hub=hub-b.azure-devices.net`)).body.items;
    expect(seeded(byHub)).toEqual(all.filter((_, i) => i % 3 === 0 && i % 10 !== 9));
    const rejected = (await get(`/api/decisions?${range}&outcome=rejected`)).body.items;
    expect(seeded(rejected)).toEqual(['seed-09', 'seed-19', 'seed-29']);
    expect(rejected[0]).toMatchObject({ enrollmentKind: 'individual', hub: null });
    const afterMidnight = (await get('/api/decisions?since=2026-01-02T00:00:00Z&until=2026-01-02T00:00:05Z'))
      .body.items;
    expect(seeded(afterMidnight)).toEqual(['seed-15', 'seed-16', 'seed-17', 'seed-18', 'seed-19']);
    const hostile = await get(`/api/decisions?${range}&hub=${encodeURIComponent("x' or hub ne '")}`);
    expect({ status: hostile.status, items: hostile.body.items }).toEqual({ status: 200, items: [] });
  });

  it('summarises a range: outcomes, and hubs by count', async () => {
    const answer = await get<DecisionSummary>(`/api/decisions/summary?${range}`);
    expect(answer.body).toEqual({
      since: '2026-01-01T23:59:00.000Z',
      until: '2026-01-02T00:01:00.000Z',
      total: 30,
      outcomes: { assigned: 27, rejected: 3, 'invalid-request': 0 },
      hubs: [
        { hub: 'hub-a.azure-devices.net', count: 18 },
        { hub: 'hub-b.azure-devices.net', count: 9 },
      ],
    });
  });
});

describe('parameters and access', () => {
  it('answers a bad parameter with a 400 naming it', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['/api/decisions?since=yesterday', 'since', /since must be a duration back from now/],
      ['/api/decisions?limit=0', 'limit', /limit must be a whole number from 1 to 1000/],
      ['/api/decisions?limit=1001', 'limit', /limit/],
      [
        '/api/decisions?outcome=maybe',
        'outcome',
        /outcome must be one of assigned, rejected, invalid-request/,
      ],
      ['/api/decisions?hub=', 'hub', /hub must not be empty/],
      ['/api/decisions?since=1h&until=2h', 'until', /until must be later than since/],
      ['/api/decisions?continuationToken=nope', 'continuationToken', /not a continuation token/],
      ['/api/decisions?hubs=x', 'hubs', /unknown parameter 'hubs'; known parameters: since, until/],
      ['/api/decisions?limit=1&limit=2', 'limit', /limit is given more than once/],
      ['/api/decisions/summary?since=8d', 'since', /at most 7 days/],
      ['/api/decisions/summary?outcome=assigned', 'outcome', /unknown parameter/],
    ];
    for (const [query, parameter, message] of cases) {
      const answer = await get<{ error: string; parameter: string }>(query);
      expect({ query, status: answer.status, parameter: answer.body.parameter }).toEqual({
        query,
        status: 400,
        parameter,
      });
      expect(answer.body.error).toMatch(message);
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('is registered for GET with function keys', async () => {
    const routes = host.functions.map((fn) =>
      fn.kind === 'http' ? [fn.name, fn.route, fn.methods, fn.authLevel] : [fn.name],
    );
    expect(routes).toEqual([
      ['allocate', 'allocate', ['POST'], 'function'],
      ['decisions', 'decisions', ['GET'], 'function'],
      ['decisionsSummary', 'decisions/summary', ['GET'], 'function'],
    ]);
    expect((await get('/api/decisions', false)).status).toBe(401);
    expect((await get('/api/decisions/summary', false)).status).toBe(401);
  });
});
