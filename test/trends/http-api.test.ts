// GET /api/trends on Azurite: `days` checked (a 400 saying what is accepted), the answer in the TrendsView shape,
// every day of the window present and zero-filled where the roll-up has no row, a 503 while storage is away;
// and the function registered on route `trends` with a function key like the other read APIs.
import { startAzurite, type Azurite } from '../../dev/azurite';
import '../../src/functions/trends';
import { createTrendsApi } from '../../src/trends/http-api';
import { refreshTrendSources } from '../../src/trends/refresh';
import type { TrendsSources } from '../../src/trends/store';
import { trendsViewSchema } from '../../src/trends/view';
import { closedPort } from '../support/closed-port';
import { triggerOf } from '../support/registered-functions';
import { monthOfDecisions, newPrefix, sourcesOn, writeDecisions } from './support/month';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const log = { warn: jest.fn(), error: jest.fn() };

let azurite: Azurite;
let sources: TrendsSources;

const get = (query: string, store = () => sources.trends) =>
  createTrendsApi({ store, now: () => NOW }).get(
    { url: `http://127.0.0.1/api/trends${query}`, query: new URLSearchParams(query), params: {} },
    log,
  );

beforeAll(async () => {
  azurite = await startAzurite();
  sources = sourcesOn(azurite, newPrefix());
  // Decisions on the last 4 days only (none 4 days back), and the roll-up of the last 3.
  await writeDecisions(sources.decisions, monthOfDecisions(NOW, 5));
  await refreshTrendSources(sources, { log: () => undefined, now: () => NOW });
});

afterAll(async () => {
  await azurite?.stop();
});

it('is registered as GET /api/trends with a function key', () => {
  expect(triggerOf('trends')).toMatchObject({
    type: 'httpTrigger',
    route: 'trends',
    authLevel: 'function',
    methods: ['GET'],
  });
});

it.each([
  ['?days=0', 'days must be a whole number from 1 to 90'],
  ['?days=91', 'days must be a whole number from 1 to 90'],
  ['?days=week', 'days must be a whole number from 1 to 90'],
  ['?days=7&days=8', 'days is given more than once'],
  ['?day=7', "unknown parameter 'day'; known parameters: days"],
])('answers %s with a 400 that says what is wrong', async (query, error) => {
  const answer = await get(query);
  expect(answer).toMatchObject({ status: 400, jsonBody: { error } });
});

it('answers the last 30 days by default, every day present, zeros where nothing happened', async () => {
  const answer = await get('');
  expect(answer.status).toBe(200);
  expect(answer.headers['Cache-Control']).toBe('no-store');
  const view = trendsViewSchema.parse(answer.jsonBody);
  expect(view).toMatchObject({ days: 30, from: '2026-11-08', to: '2026-12-07' });
  expect(view.problems.map((d) => d.day)).toEqual(view.allocations.map((d) => d.day));
  expect(view.problems).toHaveLength(30);
  expect(view.problems.every((d) => d.opened.total === 0 && d.resolved.total === 0)).toBe(true);
  expect(view.allocations.map((d) => d.total).slice(-5)).toEqual([0, 4, 3, 2, 1]);
  expect(view.allocations[0]).toEqual({
    day: '2026-11-08',
    total: 0,
    byOutcome: { assigned: 0, rejected: 0, 'invalid-request': 0 },
    byHub: {},
  });
  expect(view.hubs).toEqual([...view.hubs].sort());
  expect(view.hubs.length).toBeGreaterThan(0);
  expect(view.updatedAt).toEqual({
    problems: new Date(NOW).toISOString(),
    allocations: new Date(NOW).toISOString(),
  });
});

it('answers ?days=1 with today only', async () => {
  const view = trendsViewSchema.parse((await get('?days=1')).jsonBody);
  expect(view).toMatchObject({ days: 1, from: '2026-12-07', to: '2026-12-07' });
  expect(view.allocations).toEqual([expect.objectContaining({ day: '2026-12-07', total: 1 })]);
});

it('answers zeros and null updatedAt before the first refresh', async () => {
  const fresh = sourcesOn(azurite, newPrefix());
  const view = trendsViewSchema.parse((await get('?days=7', () => fresh.trends)).jsonBody);
  expect(view.problems).toHaveLength(7);
  expect(view.updatedAt).toEqual({ problems: null, allocations: null });
  expect(view.hubs).toEqual([]);
});

it('answers a 503 with Retry-After when storage cannot be read', async () => {
  const port = await closedPort();
  const unreachable = sourcesOn(
    { ...azurite, connectionString: azurite.connectionString.replace(/:\d+\//, `:${port}/`) },
    newPrefix(),
  );
  const answer = await get('?days=7', () => unreachable.trends);
  expect(answer).toMatchObject({
    status: 503,
    headers: { 'Retry-After': '30' },
    jsonBody: { retryable: true },
  });
});
