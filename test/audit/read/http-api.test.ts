// The audit's HTTP API through the real app.http registrations, served by the local Functions host over HTTP:
// a seeded DPS emulator is scanned into Azurite, then GET /api/audit is asked with each filter and paged through,
// bad parameters get a 400 naming the parameter, hostile input stays a value, and storage trouble is a 503.
import type { FunctionsHost } from '../../../dev/functions-host';
import { serveFunctions } from '../../support/serve-functions';
import { createAuditApi } from '../../../src/audit/read/http-api';
import type { JsonApiRequest } from '../../../src/http/json-api';
import { AuditStore } from '../../../src/audit/store';
import { scan, startAuditEnvironment, type AuditTestEnvironment } from '../support/environment';
import {
  expectedRows,
  FUNCTION_KEY,
  GROUPS,
  INDIVIDUAL_FAILED,
  recoverFailed,
  seedViewsFixture,
  type ExpectedRow,
} from '../support/views-fixture';
import { closedPort } from '../../support/closed-port';

const KEY = 'audit-api-test-key';
const PREFIX = 'ApiViews';
const SETTINGS = ['AUDIT_STORAGE_CONNECTION_STRING', 'AUDIT_TABLE_PREFIX'] as const;

let env: AuditTestEnvironment;
let store: AuditStore;
let host: FunctionsHost;
let expected: ExpectedRow[];
let recovered: string[];
const saved = Object.fromEntries(SETTINGS.map((name) => [name, process.env[name]]));

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

interface ProblemItem {
  registrationId: string;
  enrollmentKind: string;
  enrollmentId: string;
  status: string;
  errorCode?: number;
  errorMessage?: string;
  open: boolean;
  firstSeen: string;
  resolvedAt?: string;
  resolution?: string;
}

interface ProblemsBody {
  items: ProblemItem[];
  continuationToken: string | null;
  next: string | null;
}

async function get<T = Record<string, unknown>>(pathAndQuery: string, withKey = true): Promise<Answer<T>> {
  const response = await fetch(`${host.baseUrl}${pathAndQuery}`, {
    headers: withKey ? { 'x-functions-key': KEY } : {},
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

/** Every problem the query matches, page after page through the `next` links. */
async function allPages(query: string, pageSize: number): Promise<{ items: ProblemItem[]; pages: number }> {
  const items: ProblemItem[] = [];
  let url: string | null = `/api/audit?${query}${query ? '&' : ''}pageSize=${pageSize}`;
  let pages = 0;
  while (url !== null) {
    const answer: Answer<ProblemsBody> = await get<ProblemsBody>(url.replace(host.baseUrl, ''));
    expect(answer.status).toBe(200);
    expect(answer.body.items.length).toBeLessThanOrEqual(pageSize);
    items.push(...answer.body.items);
    url = answer.body.next;
    pages++;
    if (url !== null)
      expect(new URL(url).searchParams.get('continuationToken')).toBe(answer.body.continuationToken);
  }
  return { items, pages };
}

const ids = (rows: ReadonlyArray<{ registrationId: string }>) => rows.map((row) => row.registrationId).sort();
const where = (predicate: (row: ExpectedRow) => boolean) => ids(expected.filter(predicate));
const list = async (query: string) => ids((await allPages(query, 1000)).items);

beforeAll(async () => {
  env = await startAuditEnvironment();
  store = env.newStore(PREFIX);
  seedViewsFixture(env.emulator);
  const client = env.newClient();
  await scan(client, store, { pageSize: 5 });
  const before = recoverFailed(env.emulator, GROUPS[0], 2);
  recovered = [...before.keys()];
  await scan(client, store, { pageSize: 5 });
  expected = expectedRows(env.emulator, before);

  process.env.AUDIT_STORAGE_CONNECTION_STRING = env.azurite.connectionString;
  process.env.AUDIT_TABLE_PREFIX = PREFIX;
  host = await serveFunctions(['audit-problems', 'audit-history', 'audit-scans', 'audit-findings'], KEY);
});

afterAll(async () => {
  await host?.stop();
  await env?.stop();
  for (const name of SETTINGS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('GET /api/audit', () => {
  it('is registered for GET with function-level keys', async () => {
    const routes = host.functions.map((fn) =>
      fn.kind === 'http' ? [fn.name, fn.route, fn.methods, fn.authLevel] : [fn.name],
    );
    expect(routes).toEqual([
      ['auditProblems', 'audit', ['GET'], 'function'],
      ['auditHistory', 'audit/history/{registrationId}', ['GET'], 'function'],
      ['auditScans', 'audit/scans', ['GET'], 'function'],
      ['auditFindings', 'audit/findings', ['GET'], 'function'],
    ]);
    expect((await get('/api/audit', false)).status).toBe(401);
    expect((await fetch(`${host.baseUrl}/api/audit?code=${KEY}`, { method: 'POST' })).status).toBe(404);
  });

  it('answers every recorded problem as JSON, open and resolved', async () => {
    // 2 groups x (8 failed + 2 unassigned + 1 disabled) + 1 individual; 2 of them recovered since.
    expect(expected).toHaveLength(23);
    expect(expected.filter((row) => !row.open)).toHaveLength(2);
    const answer = await get<ProblemsBody>('/api/audit?pageSize=1000');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/application\/json/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body.continuationToken).toBeNull();
    expect(answer.body.next).toBeNull();
    expect(ids(answer.body.items)).toEqual(ids(expected));
    const individual = answer.body.items.find((item) => item.registrationId === INDIVIDUAL_FAILED);
    expect(individual).toMatchObject({
      enrollmentKind: 'individual',
      status: 'failed',
      errorCode: 400209,
      open: true,
    });
    for (const internal of ['partitionKey', 'rowKey', 'historyStarted']) {
      expect(individual).not.toHaveProperty(internal);
    }
    expect(new Date(individual!.firstSeen).getTime()).not.toBeNaN();
    expect(individual!.errorMessage).toContain('?code=***');
    expect(JSON.stringify(answer.body)).not.toContain(FUNCTION_KEY);
  });

  it('filters by status, group (case-insensitive), kind, error code and resolution', async () => {
    expect(await list('status=failed')).toEqual(where((row) => row.status === 'failed'));
    expect(await list('status=unassigned')).toEqual(where((row) => row.status === 'unassigned'));
    expect(await list('group=FLEET-custom')).toEqual(where((row) => row.group === GROUPS[0]));
    expect(await list('kind=individual')).toEqual([INDIVIDUAL_FAILED]);
    expect(await list('errorCode=400209')).toEqual(where((row) => row.errorCode === 400209));
    expect(await list('errorCode=400208')).toEqual(where((row) => row.errorCode === 400208));
    expect(await list('resolved=true')).toEqual([...recovered].sort());
    expect(await list('resolved=false')).toEqual(where((row) => row.open));
    expect(await list(`status=failed&group=${GROUPS[1]}&errorCode=400207&resolved=false`)).toEqual(
      where(
        (row) => row.status === 'failed' && row.group === GROUPS[1] && row.errorCode === 400207 && row.open,
      ),
    );
    expect(where((row) => row.errorCode === 400209).length).toBeGreaterThan(1);
  });

  it('filters by first-seen time, relative or absolute', async () => {
    expect(await list('since=1h')).toEqual(ids(expected));
    expect(await list(`since=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).toEqual(
      ids(expected),
    );
    expect(await list(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual(
      [],
    );
    expect(await list('since=2999-01-01')).toEqual([]);
  });

  it('pages through everything with a small page size: the union is the full set, without duplicates', async () => {
    const { items, pages } = await allPages('', 4);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / 4));
    expect(items.map((item) => item.registrationId)).toHaveLength(new Set(ids(items)).size);
    expect(ids(items)).toEqual(ids(expected));

    const failed = await allPages('status=failed&since=1h', 3);
    expect(ids(failed.items)).toEqual(where((row) => row.status === 'failed'));
    expect(failed.pages).toBeGreaterThan(1);
  });

  it('keeps the filters in the next link, pins a relative since and leaves the function key out', async () => {
    const answer = await get<ProblemsBody>(`/api/audit?status=failed&since=2h&pageSize=2&code=${KEY}`);
    expect(answer.status).toBe(200);
    const next = new URL(answer.body.next!);
    expect(next.pathname).toBe('/api/audit');
    expect(next.searchParams.get('status')).toBe('failed');
    expect(next.searchParams.get('pageSize')).toBe('2');
    expect(next.searchParams.get('since')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(next.searchParams.has('code')).toBe(false);
    expect(answer.body.continuationToken).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('answers a bad parameter with a 400 naming it', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['status=broken', 'status', /status must be one of failed, unassigned, disabled, assigning/],
      ['errorCode=abc', 'errorCode', /errorCode must be a whole number/],
      ['errorCode=1.5', 'errorCode', /errorCode/],
      ['since=yesterday', 'since', /since must be a duration back from now/],
      ['since=2026-06-01T10:00:00', 'since', /time zone/],
      ['resolved=maybe', 'resolved', /resolved must be true or false/],
      ['pageSize=0', 'pageSize', /pageSize must be a whole number from 1 to 1000/],
      ['pageSize=1001', 'pageSize', /pageSize/],
      ['kind=other', 'kind', /kind must be 'group' or 'individual'/],
      ['group=', 'group', /group must not be empty/],
      [`group=${'x'.repeat(2000)}`, 'group', /group is too long/],
      ['continuationToken=not-a-token', 'continuationToken', /continuationToken is not a continuation token/],
      ['continuationToken=eyJub3BlIjoxfQ', 'continuationToken', /continuationToken/],
      ['statsu=failed', 'statsu', /unknown parameter 'statsu'; known parameters: status, group/],
      ['status=failed&status=disabled', 'status', /status is given more than once/],
    ];
    for (const [query, parameter, message] of cases) {
      const answer = await get<{ error: string; parameter: string }>(`/api/audit?${query}`);
      expect({ query, status: answer.status, parameter: answer.body.parameter }).toEqual({
        query,
        status: 400,
        parameter,
      });
      expect(answer.body.error).toMatch(message);
      expect(JSON.stringify(answer.body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
    }
  });

  it('treats hostile filter values as plain values: no injection, no error', async () => {
    for (const group of ["x' or PartitionKey ne '", "' or '1' eq '1", "fleet-custom' or RowKey gt '"]) {
      const answer = await get<ProblemsBody>(`/api/audit?group=${encodeURIComponent(group)}`);
      expect({ group, status: answer.status, items: answer.body.items }).toEqual({
        group,
        status: 200,
        items: [],
      });
    }
    const answer = await get<ProblemsBody>(`/api/audit?group=${encodeURIComponent(GROUPS[1])}`);
    expect(ids(answer.body.items)).toEqual(where((row) => row.group === GROUPS[1]));
  });
});

describe('GET /api/audit/history, /scans and /findings', () => {
  it("answers a device's transitions, oldest first", async () => {
    const [first] = recovered;
    const answer = await get<{ registrationId: string; items: Array<Record<string, unknown>> }>(
      `/api/audit/history/${first!.toUpperCase()}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.items).toEqual([
      expect.objectContaining({ registrationId: first, fromStatus: 'none', toStatus: 'failed' }),
      expect.objectContaining({ registrationId: first, fromStatus: 'failed', toStatus: 'assigned' }),
    ]);
    expect((await get(`/api/audit/history/${first}?group=${GROUPS[1]}`)).body).toEqual({
      registrationId: first,
      items: [],
    });
    const bad = await get<{ parameter: string }>(`/api/audit/history/${first}?groop=x`);
    expect(bad).toMatchObject({ status: 400, body: { parameter: 'groop' } });
  });

  it('answers the newest scan runs and the scan state', async () => {
    const answer = await get<{ items: Array<Record<string, unknown>>; state: Record<string, unknown> }>(
      '/api/audit/scans?limit=1',
    );
    expect(answer.status).toBe(200);
    expect(answer.body.items).toEqual([
      expect.objectContaining({ outcome: 'completed', problemsResolved: 2, problemsFound: 0 }),
    ]);
    expect(answer.body.state).toMatchObject({ running: false, phase: 'done' });
    expect((await get<{ items: unknown[] }>('/api/audit/scans')).body.items).toHaveLength(2);
    expect((await get('/api/audit/scans?limit=0')).status).toBe(400);
  });

  it('answers the enrollment findings, all or only those with findings', async () => {
    const all = await get<{ items: Array<{ enrollmentId: string; findings: Array<{ code: string }> }> }>(
      '/api/audit/findings',
    );
    expect(all.status).toBe(200);
    const byId = new Map(all.body.items.map((item) => [item.enrollmentId, item]));
    expect(byId.get(GROUPS[1])?.findings.map((f) => f.code)).toEqual(['allocation-not-custom']);
    expect(byId.get(GROUPS[0])?.findings).toEqual([]);
    const withFindings = await get<{ items: Array<{ enrollmentId: string }> }>(
      '/api/audit/findings?onlyWithFindings=true&kind=group',
    );
    expect(withFindings.body.items.map((item) => item.enrollmentId)).toEqual([GROUPS[1]]);
    expect(JSON.stringify(all.body)).not.toContain(FUNCTION_KEY);
    expect(all.body.items.find((item) => item.enrollmentId === GROUPS[0])).toMatchObject({
      webhook: 'https://audit-app.example.net/api/allocate',
    });
  });
});

describe('when storage or settings fail', () => {
  const request = (query = ''): JsonApiRequest => ({
    url: `http://127.0.0.1/api/audit?${query}`,
    query: new URLSearchParams(query),
    params: {},
  });
  const logs: string[] = [];
  const log = { warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };

  it('answers 503 with a retryable JSON error when storage is unreachable, and 200 with nothing before any scan', async () => {
    const port = await closedPort();
    const deadStore = new AuditStore({
      connection: {
        kind: 'connectionString',
        connectionString: env.azurite.connectionString.replace(/:\d+\//, `:${port}/`),
      },
      retry: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 },
    });
    const api = createAuditApi({ store: () => deadStore });
    for (const call of [api.problems, api.scans, api.findings]) {
      const answer = await call(request(), log);
      expect(answer).toMatchObject({
        status: 503,
        jsonBody: { retryable: true },
        headers: { 'Retry-After': '30' },
      });
      expect(JSON.stringify(answer.jsonBody)).not.toMatch(/ECONNREFUSED|\.ts:\d+|at /);
    }
    expect(logs.join('\n')).toMatch(/ECONNREFUSED/);

    const fresh = createAuditApi({ store: () => env.newStore() });
    await expect(fresh.problems(request(), log)).resolves.toMatchObject({
      status: 200,
      jsonBody: { items: [], continuationToken: null, next: null },
    });
    await expect(fresh.scans(request(), log)).resolves.toMatchObject({
      status: 200,
      jsonBody: { items: [], state: { running: false } },
    });
  });

  it('gives up on unreachable storage within seconds with its own store, not after the retries of a scan', async () => {
    const port = await closedPort();
    const saved = process.env.AUDIT_STORAGE_CONNECTION_STRING;
    process.env.AUDIT_STORAGE_CONNECTION_STRING = env.azurite.connectionString.replace(/:\d+\//, `:${port}/`);
    try {
      const started = performance.now();
      await expect(createAuditApi().problems(request(), log)).resolves.toMatchObject({ status: 503 });
      // A scan's store retries 5 times, 0.5 s doubling: 15 s. The reads' store: 2 retries from 0.2 s.
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      if (saved === undefined) delete process.env.AUDIT_STORAGE_CONNECTION_STRING;
      else process.env.AUDIT_STORAGE_CONNECTION_STRING = saved;
    }
  });

  it('answers 500 naming the setting when the audit has no storage configured, or a malformed one', async () => {
    const keep = { ...process.env };
    for (const name of Object.keys(process.env)) {
      if (/^(AzureWebJobsStorage|AUDIT_)/.test(name)) delete process.env[name];
    }
    try {
      const answer = await get<{ error: string }>('/api/audit');
      expect(answer.status).toBe(500);
      expect(answer.body.error).toMatch(/AUDIT_STORAGE_CONNECTION_STRING/);

      process.env.AUDIT_STORAGE_CONNECTION_STRING = 'DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0';
      const malformed = await get<{ error: string }>('/api/audit?status=failed');
      expect(malformed.status).toBe(500);
      expect(malformed.body.error).toMatch(
        /^The audit is not configured: AUDIT_STORAGE_CONNECTION_STRING is not a storage connection string/,
      );
      expect(malformed.body.error).not.toContain('c2VjcmV0');
    } finally {
      process.env = keep;
    }
  });
});
