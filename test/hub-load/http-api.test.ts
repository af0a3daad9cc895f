// GET /api/hubs in process, on Azurite: each hub's count and its age from the HubLoad table next to the policy's cap
// and drain flag (fill = devices / cap), stale counts marked, the last error shown; a bad parameter is a 400,
// storage down a 503 with Retry-After.
import { startAzurite, type Azurite } from '../../dev/azurite';
import { createHubsApi } from '../../src/hub-load/http-api';
import type { HubsReport } from '../../src/hub-load/report';
import { HubLoadStore } from '../../src/hub-load/store';
import { failedRow, readRow } from '../../src/hub-load/table';
import { readSettings } from '../../src/settings';
import { freshPrefix, HUB_A, HUB_B, HUB_C } from './support/environment';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const POLICY = JSON.stringify({
  hubs: {
    a: { hostName: HUB_A, maxDevices: 200 },
    b: { hostName: HUB_B.toUpperCase(), drain: true },
  },
});

let azurite: Azurite;
const log = { warn: jest.fn(), error: jest.fn() };

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(async () => {
  await azurite?.stop();
});

const request = (query = '') => ({
  url: `http://127.0.0.1/api/hubs${query}`,
  query: new URLSearchParams(query),
  params: {},
});

function apiOn(connectionString: string, prefix: string) {
  return createHubsApi({
    settings: () =>
      readSettings({
        AUDIT_STORAGE_CONNECTION_STRING: connectionString,
        AUDIT_TABLE_PREFIX: prefix,
        HUB_LOAD_HUBS: `${HUB_A},${HUB_B}`,
        ALLOCATION_POLICY: POLICY,
      }),
    now: () => NOW,
  });
}

it('shows devices, cap, fill, drain and the age of each count', async () => {
  const prefix = freshPrefix();
  const store = new HubLoadStore({
    connection: { kind: 'connectionString', connectionString: azurite.connectionString },
    tablePrefix: prefix,
  });
  const fresh = readRow(
    HUB_A,
    { totalDeviceCount: 50, enabledDeviceCount: 48, disabledDeviceCount: 2 },
    new Date(NOW - 30_000),
  );
  const old = readRow(
    HUB_B,
    { totalDeviceCount: 9, enabledDeviceCount: 9, disabledDeviceCount: 0 },
    new Date(NOW - 600_000),
  );
  await store.write([
    fresh,
    failedRow(HUB_B, old, 'IoT Hub getDeviceStatistics failed (HTTP 401)', new Date(NOW - 1000)),
  ]);

  const answer = await apiOn(azurite.connectionString, prefix).hubs(request('?code=key'), log);
  expect(answer.status).toBe(200);
  expect(answer.headers['Cache-Control']).toBe('no-store');
  const report = answer.jsonBody as HubsReport;
  expect(report).toMatchObject({ at: '2026-06-01T12:00:00.000Z', maxAgeSeconds: 300 });
  expect(report.policyError).toBeUndefined();
  expect(report.hubs).toEqual([
    {
      hostName: HUB_A,
      alias: 'a',
      counted: true,
      devices: 50,
      enabledDevices: 48,
      disabledDevices: 2,
      maxDevices: 200,
      fill: 0.25,
      drain: false,
      readAt: '2026-06-01T11:59:30.000Z',
      ageSeconds: 30,
      stale: false,
      lastError: null,
      attemptedAt: '2026-06-01T11:59:30.000Z',
    },
    expect.objectContaining({
      hostName: HUB_B,
      alias: 'b',
      devices: 9,
      maxDevices: null,
      fill: null,
      drain: true,
      ageSeconds: 600,
      stale: true,
      lastError: 'IoT Hub getDeviceStatistics failed (HTTP 401)',
    }),
  ]);
});

it('lists counted hubs without a row as never read', async () => {
  const answer = await createHubsApi({
    settings: () =>
      readSettings({
        AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString,
        AUDIT_TABLE_PREFIX: freshPrefix(),
        HUB_LOAD_HUBS: HUB_C,
        ALLOCATION_POLICY: '{ not json',
      }),
  }).hubs(request(), log);
  expect(answer.status).toBe(200);
  const report = answer.jsonBody as HubsReport;
  expect(report.policyError).toMatch(/\w/);
  expect(report.hubs).toEqual([
    expect.objectContaining({ hostName: HUB_C, counted: true, devices: null, readAt: null, stale: true }),
  ]);
});

it('refuses unknown parameters, and answers 503 while storage is down', async () => {
  const bad = await apiOn(azurite.connectionString, freshPrefix()).hubs(request('?hub=x'), log);
  expect(bad).toMatchObject({ status: 400, jsonBody: { parameter: 'hub' } });

  const stopped = await startAzurite();
  await stopped.stop();
  const down = await apiOn(stopped.connectionString, freshPrefix()).hubs(request(), log);
  expect(down.status).toBe(503);
  expect(down.headers['Retry-After']).toBe('30');
  expect(JSON.stringify(log.warn.mock.calls)).not.toContain('AccountKey=');
});
