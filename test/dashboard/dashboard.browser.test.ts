// The dashboard in a real headless browser (Debian's Chromium driven by playwright-core; installed by the setup
// when missing): the DPS emulator holds a known mix of failed, unassigned and disabled devices, two audit scans
// record them in Azurite (some recover in between), the real function registrations are served by the local
// Functions host, allocation requests posted to the real allocate function fill the decision log, and the page
// loaded from the host must show the counts, transitions, scan runs and hubs, talk to nobody but 127.0.0.1, log no
// error, hold to its Content-Security-Policy, escape hostile ids, and keep its data with a banner when an endpoint
// fails. The trend charts, fed known months of GET /api/trends, must draw a bar per day and series, show the same
// numbers as tables, and say so when there is no data or no trends endpoint. Screenshots are saved to
// test-artifacts/dashboard.png and dashboard-trends.png.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, ConsoleMessage, Page, Request } from 'playwright-core';
import { ensureChromium, launchChromium } from '../../dev/chromium';
import type { FunctionsHost } from '../../dev/functions-host';
import { serveFunctions } from '../support/serve-functions';
import { idKey } from '../../src/storage/keys';
import { recentScans } from '../../src/audit/read/queries';
import type { AuditStore } from '../../src/audit/store';
import type { ProblemRow, ScanRunRow } from '../../src/audit/rows/tables';
import { HubLoadStore } from '../../src/hub-load/store';
import { refreshTrends } from '../../src/trends/refresh';
import { failedRow, readRow } from '../../src/hub-load/table';
import { scan, startAuditEnvironment, type AuditTestEnvironment } from '../audit/support/environment';
import {
  expectedRows,
  GROUPS,
  INDIVIDUAL_FAILED,
  recoverFailed,
  seedViewsFixture,
  type ExpectedRow,
} from '../audit/support/views-fixture';

const KEY = 'dashboard-browser-test-key';
const PREFIX = 'DashView';
const SETTINGS = ['AUDIT_STORAGE_CONNECTION_STRING', 'AUDIT_TABLE_PREFIX', 'HUB_LOAD_HUBS'] as const;
const ARTIFACT = path.join(__dirname, '../../test-artifacts/dashboard.png');
const TRENDS_ARTIFACT = path.join(__dirname, '../../test-artifacts/dashboard-trends.png');
const FUNCTIONS = [
  'dashboard',
  'audit-summary',
  'audit-transitions',
  'audit-scans',
  'allocate',
  'decisions',
  'decisions-summary',
  'audit-hubs',
  'trends',
];

const TOASTERS = 'contoso-toasters-hub-1098.azure-devices.net';
const HEATPUMPS = 'contoso-heatpumps-hub-1098.azure-devices.net';
const GENERAL = ['contoso-general-1.azure-devices.net', 'contoso-general-2.azure-devices.net'];

/** A webhook request body as DPS sends it (README: "Call the webhook yourself"). */
function allocationRequest(registrationId: string, linkedHubs: readonly string[]): string {
  return JSON.stringify({
    enrollmentGroup: { enrollmentGroupId: 'dashboard-fleet', attestation: { type: 'symmetricKey' } },
    deviceRuntimeContext: { registrationId, symmetricKey: {} },
    linkedHubs,
  });
}

/** What the default policy does with them: toasters and heat pumps to their hubs, sensors hashed, two rejected. */
const ALLOCATIONS: Array<{ registrationId: string; body: string }> = [
  ...[1, 2, 3, 4, 5].map((n) => `lobby10${n}-contoso-tstrsd-00${n}`),
  ...[1, 2, 3].map((n) => `plant20${n}-contoso-hpsd-00${n}`),
  ...[1, 2, 3, 4, 5, 6].map((n) => `sensor-000${n}`),
]
  .map((registrationId) => ({
    registrationId,
    body: allocationRequest(registrationId, [TOASTERS, HEATPUMPS, ...GENERAL]),
  }))
  .concat(
    // No heat pump hub linked: the policy rejects them.
    ['annex301-contoso-hpsd-001', 'annex302-contoso-hpsd-002'].map((registrationId) => ({
      registrationId,
      body: allocationRequest(registrationId, [TOASTERS, GENERAL[0]!]),
    })),
    [{ registrationId: '', body: '{"deviceRuntimeContext": ' }],
  );

/** A problem row no scan would write: its ids are markup, which the page must show as text. */
const HOSTILE_GROUP = '<img src=x onerror="window.__injected=1">';
const HOSTILE_ID = '<script>window.__injected=2</script>';

let env: AuditTestEnvironment;
let store: AuditStore;
let host: FunctionsHost;
let browser: Browser;
let expected: ExpectedRow[];
let recovered: string[];
let scans: ScanRunRow[];
const trendWarnings: string[] = [];
/** hub -> devices the allocate function assigned there; the registration ids it rejected. */
const assigned: Record<string, number> = {};
const rejected: string[] = [];
const saved = Object.fromEntries(SETTINGS.map((name) => [name, process.env[name]]));

function hostileRow(): ProblemRow {
  const now = new Date();
  return {
    partitionKey: idKey(HOSTILE_GROUP),
    rowKey: idKey(HOSTILE_ID),
    registrationId: HOSTILE_ID,
    enrollmentKind: 'group',
    enrollmentId: HOSTILE_GROUP,
    status: 'failed',
    errorCode: 400208,
    errorExplanation: 'hand-written',
    source: 'registration-state',
    firstSeen: now,
    lastSeen: now,
    open: true,
    historyStarted: false,
    lastScanId: 'hand-written',
  };
}

/** One UTC day of the trends fixture. */
interface TrendDay {
  opened: number;
  resolved: number;
  byHub: Record<string, number>;
  rejected: number;
}

const sumOf = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** GET /api/trends's answer: the TrendsView of src/trends/view.ts over the given days, the last one today. */
function trendsView(days: readonly TrendDay[], window = days.length) {
  const today = new Date().toISOString().slice(0, 10);
  const dayOf = (index: number) =>
    new Date(Date.parse(today) - (days.length - 1 - index) * 86_400_000).toISOString().slice(0, 10);
  const updatedAt = new Date(Date.now() - 120_000).toISOString();
  return {
    days: window,
    from: dayOf(0),
    to: today,
    problems: days.map((counts, index) => ({
      day: dayOf(index),
      opened: {
        total: counts.opened,
        byStatus: counts.opened ? { failed: counts.opened } : {},
        byErrorCode: counts.opened ? { '400209': counts.opened } : {},
        byEnrollment: counts.opened ? { 'group-a': counts.opened } : {},
      },
      resolved: {
        total: counts.resolved,
        byStatus: counts.resolved ? { failed: counts.resolved } : {},
        byErrorCode: {},
        byEnrollment: counts.resolved ? { 'group-a': counts.resolved } : {},
        byResolution: counts.resolved ? { assigned: counts.resolved } : {},
      },
    })),
    allocations: days.map((counts, index) => {
      const assigned = sumOf(Object.values(counts.byHub));
      return {
        day: dayOf(index),
        total: assigned + counts.rejected,
        byOutcome: { assigned, rejected: counts.rejected, 'invalid-request': 0 },
        byHub: counts.byHub,
      };
    }),
    hubs: [...new Set(days.flatMap((counts) => Object.keys(counts.byHub)))].sort(),
    updatedAt: { problems: updatedAt, allocations: updatedAt },
  };
}

/** Nine hubs, busiest first (the page draws six and sums the rest); one has markup for a name. */
const TREND_HUBS = [
  'hub-north.azure-devices.net',
  'hub-south.azure-devices.net',
  HOSTILE_ID,
  ...[4, 5, 6, 7, 8, 9].map((n) => `hub-${n}.azure-devices.net`),
];

/** A month of varied counts, a few days with nothing at all. */
const MONTH: TrendDay[] = Array.from({ length: 30 }, (_, day) => ({
  opened: day % 7 === 0 ? 0 : (day * 5) % 9,
  resolved: (day * 3) % 5,
  byHub: Object.fromEntries(
    TREND_HUBS.map((hub, rank) => [hub, day % 10 === 3 ? 0 : 20 - 2 * rank + (day % 2)]),
  ),
  rejected: day % 4,
}));

beforeAll(async () => {
  const [chromiumPath, environment] = await Promise.all([
    ensureChromium({ log: (line) => process.stderr.write(`${line}\n`) }),
    startAuditEnvironment(),
  ]);
  env = environment;
  store = env.newStore(PREFIX);
  seedViewsFixture(env.emulator);
  const client = env.newClient();
  await scan(client, store, { pageSize: 5 });
  const before = recoverFailed(env.emulator, GROUPS[0], 2);
  recovered = [...before.keys()];
  await scan(client, store, { pageSize: 5 });
  expected = expectedRows(env.emulator, before);
  await store.upsert('problems', [hostileRow()]);
  scans = await recentScans(store, 10);
  await writeHubLoad(env.azurite.connectionString);

  process.env.AUDIT_STORAGE_CONNECTION_STRING = env.azurite.connectionString;
  process.env.AUDIT_TABLE_PREFIX = PREFIX;
  process.env.HUB_LOAD_HUBS = `${TOASTERS},${GENERAL[0]}`;
  [host, browser] = await Promise.all([serveFunctions(FUNCTIONS, KEY), launchChromium(chromiumPath)]);
  await postAllocations();
  // What the audit timer does after its scan: the daily roll-up of the history and the decisions.
  await refreshTrends({
    env: process.env,
    log: (level, message) => level === 'warn' && trendWarnings.push(message),
  });
}, 600_000);

/** HubLoad rows as the hub-load timer writes them: one hub read just now, one whose last read failed long ago. */
async function writeHubLoad(connectionString: string): Promise<void> {
  const hubLoad = new HubLoadStore({
    connection: { kind: 'connectionString', connectionString },
    tablePrefix: PREFIX,
  });
  const counts = (total: number) => ({
    totalDeviceCount: total,
    enabledDeviceCount: total,
    disabledDeviceCount: 0,
  });
  const now = Date.now();
  await hubLoad.write([
    readRow(TOASTERS, counts(4321), new Date(now - 20_000)),
    failedRow(
      GENERAL[0]!,
      readRow(GENERAL[0]!, counts(17), new Date(now - 3_600_000)),
      'IoT Hub getDeviceStatistics failed (HTTP 401)',
      new Date(now),
    ),
  ]);
}

/**
 * Posts ALLOCATIONS to the allocate function and waits until the decision log holds them all. Done once, before
 * any test: stopping a host runs the app's terminate hooks, and allocate's closes the decision log.
 */
async function postAllocations(): Promise<void> {
  for (const { registrationId, body } of ALLOCATIONS) {
    const response = await fetch(`${host.baseUrl}/api/allocate`, {
      method: 'POST',
      headers: { 'x-functions-key': KEY, 'content-type': 'application/json' },
      body,
    });
    const answer = (await response.json()) as { iotHubHostName?: string };
    if (response.status === 200)
      assigned[answer.iotHubHostName!] = (assigned[answer.iotHubHostName!] ?? 0) + 1;
    else if (registrationId !== '') rejected.push(registrationId);
  }
  for (let waited = 0; ; waited += 100) {
    const summary = await fetch(`${host.baseUrl}/api/decisions/summary?since=1h`, {
      headers: { 'x-functions-key': KEY },
    });
    if (summary.ok && ((await summary.json()) as { total: number }).total === ALLOCATIONS.length) return;
    if (waited > 15_000) throw new Error('The decision log did not record every allocation');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await env?.stop();
  for (const name of SETTINGS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

interface Watched {
  context: BrowserContext;
  page: Page;
  requests: Request[];
  consoleErrors: string[];
  cspViolations: () => Promise<string[]>;
}

/**
 * A fresh page that records every request, console error, page error and CSP violation. Unless `realTrends`, the
 * trend charts draw a known month (GET /api/trends answered here), which 'the trend charts' tests check.
 */
async function watchedPage(realTrends = false): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  if (!realTrends) {
    await context.route('**/api/trends*', (route) => route.fulfill({ json: trendsView(MONTH) }));
  }
  const page = await context.newPage();
  const requests: Request[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (request) => requests.push(request));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  // Injected by the browser driver before the page's own script (outside its CSP).
  await page.addInitScript(() => {
    const seen: string[] = [];
    const page = globalThis as unknown as PageGlobals;
    page.__cspViolations = seen;
    page.document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const cspViolations = () => page.evaluate(() => (globalThis as unknown as PageGlobals).__cspViolations);
  return { context, page, requests, consoleErrors, cspViolations };
}

async function refreshes(page: Page): Promise<number> {
  return Number(await page.locator('body').getAttribute('data-refreshes'));
}

async function waitForRefresh(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => Number((globalThis as unknown as PageGlobals).document.body.dataset.refreshes) >= n,
    count,
    { timeout: 20_000 },
  );
}

/** What the test's page-side callbacks touch (the project compiles without DOM types). */
interface PageGlobals {
  document: {
    body: { dataset: Record<string, string | undefined>; append(node: unknown): void };
    createElement(tag: string): { textContent: string };
    addEventListener(
      type: string,
      listener: (event: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
  __cspViolations: string[];
  __injected?: number;
}

const textOf = (page: Page, testId: string) => page.getByTestId(testId).innerText();

function tally<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

describe('GET /api/dashboard in Chromium', () => {
  it('shows the seeded audit: counts by status, error code and group, transitions and scan runs', async () => {
    const { context, page, requests, consoleErrors, cspViolations } = await watchedPage();
    try {
      const response = await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      expect(response?.status()).toBe(200);
      const headers = response!.headers();
      expect(headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'sha256-[^']+'/);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
      await waitForRefresh(page, 1);
      await mkdir(path.dirname(ARTIFACT), { recursive: true });
      await page.screenshot({ path: ARTIFACT, fullPage: true });

      const open = [
        ...expected.filter((row) => row.open),
        { status: 'failed', errorCode: 400208, group: HOSTILE_GROUP },
      ];
      expect(open.length).toBeGreaterThan(10);
      expect(await textOf(page, 'count-open')).toBe(String(open.length));
      expect(await textOf(page, 'count-resolved')).toBe(String(recovered.length));

      const byStatus = tally(open, (row) => row.status);
      for (const status of ['failed', 'unassigned', 'disabled', 'assigning']) {
        expect({ status, shown: await textOf(page, `count-status-${status}`) }).toEqual({
          status,
          shown: String(byStatus[status] ?? 0),
        });
      }
      const byCode = tally(open, (row) => String(row.errorCode ?? 'none'));
      expect(Object.keys(byCode).length).toBeGreaterThan(2);
      for (const [code, count] of Object.entries(byCode)) {
        expect({ code, shown: await textOf(page, `count-error-${code}`) }).toEqual({
          code,
          shown: String(count),
        });
      }
      const explanation = page.locator('[data-error-code="400209"] .explain');
      await expect(explanation.innerText()).resolves.toMatch(/webhook key rejected/);

      const groupRows = page.getByTestId('group-row');
      const shownGroups: Record<string, number> = {};
      for (const row of await groupRows.all()) {
        shownGroups[(await row.getAttribute('data-group'))!] = Number(
          await row.getByTestId('group-count').innerText(),
        );
      }
      expect(shownGroups).toEqual(
        tally(open, (row) => (row.group === undefined ? '(individual)' : row.group)),
      );
      expect(shownGroups[GROUPS[0]]).toBeGreaterThan(0);

      // Transitions: every open problem's first sighting (the hand-written one included), and for each recovered
      // device its first sighting and its recovery, newest first.
      const changes = await page
        .getByTestId('transition-row')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-change')));
      const firstSightings = tally(
        [...expected.map((row) => row.status), 'failed'],
        (status) => `none>${status}`,
      );
      expect(tally(changes, (change) => String(change))).toEqual({
        ...firstSightings,
        'failed>assigned': recovered.length,
      });
      const registrations = await page.getByTestId('transition-registration').allInnerTexts();
      expect(registrations).toEqual(expect.arrayContaining([...recovered, INDIVIDUAL_FAILED, HOSTILE_ID]));

      // Scan runs as stored, newest first, and where the scan stands.
      expect(scans).toHaveLength(2);
      const scanRows = page.getByTestId('scan-row');
      await expect(scanRows.count()).resolves.toBe(scans.length);
      for (const [index, run] of scans.entries()) {
        const row = scanRows.nth(index);
        expect({
          registrations: await row.getByTestId('scan-registrations').innerText(),
          found: await row.getByTestId('scan-found').innerText(),
          resolved: await row.getByTestId('scan-resolved').innerText(),
        }).toEqual({
          registrations: String(run.registrationsRead),
          found: String(run.problemsFound),
          resolved: String(run.problemsResolved),
        });
      }
      expect(scans[0]!.problemsResolved).toBe(recovered.length);
      expect(await textOf(page, 'last-scan-outcome')).toBe('completed');
      // Each of the two scans completed in one run.
      expect(await textOf(page, 'scan-state')).toMatch(
        /^The last scan completed\. Scan started .+Z, 1 run\.$/,
      );

      // Hostile ids are text: no element was made of them and no script ran.
      const hostileGroup = page.getByTestId('group-name').getByText(HOSTILE_GROUP, { exact: true });
      expect(await hostileGroup.count()).toBe(1);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__injected)).toBeUndefined();

      // Allocations of the last hour: outcomes, one bar per hub with its count, the rejected requests.
      expect(Object.keys(assigned).length).toBeGreaterThan(2);
      expect(rejected).toHaveLength(2);
      const assignedTotal = Object.values(assigned).reduce((sum, n) => sum + n, 0);
      expect(await textOf(page, 'count-allocations')).toBe(String(ALLOCATIONS.length));
      expect(await textOf(page, 'count-outcome-assigned')).toBe(String(assignedTotal));
      expect(await textOf(page, 'count-outcome-rejected')).toBe(String(rejected.length));
      expect(await textOf(page, 'count-outcome-invalid-request')).toBe('1');
      const bars = await page.getByTestId('hub-bar').evaluateAll((groups) =>
        groups.map((group) => ({
          hub: group.getAttribute('data-hub')!,
          count: Number(group.getAttribute('data-count')),
          label: group.querySelector('[data-testid="hub-count"]')?.textContent,
          width: Number(group.querySelector('rect.bar')?.getAttribute('width')),
        })),
      );
      expect(Object.fromEntries(bars.map((bar) => [bar.hub, bar.count]))).toEqual(assigned);
      for (const bar of bars) {
        expect(bar.label).toBe(`${bar.count} · ${Math.round((bar.count / assignedTotal) * 100)}%`);
      }
      const widest = Math.max(...bars.map((bar) => bar.width));
      expect(bars[0]!.width).toBe(widest); // most first, bars in proportion
      expect(bars.at(-1)!.width).toBeCloseTo((widest * bars.at(-1)!.count) / bars[0]!.count, 0);
      const chartLabel = await page.getByTestId('hub-chart').getAttribute('aria-label');
      for (const hub of Object.keys(assigned)) expect(chartLabel).toContain(hub);
      expect(await page.getByRole('img', { name: /Allocations per hub/ }).count()).toBe(1);
      expect((await page.getByTestId('decision-registration').allInnerTexts()).sort()).toEqual(
        [...rejected].sort(),
      );
      for (const reason of await page.getByTestId('decision-reason').allInnerTexts())
        expect(reason).not.toBe('');
      await expect(page.getByTestId('banner-hubs').isHidden()).resolves.toBe(true);

      // Hubs: the HubLoad rows, the one whose last read failed marked stale with why.
      const hubRows = page.getByTestId('hub-load-row');
      expect(await hubRows.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-hub')))).toEqual(
        [GENERAL[0], TOASTERS].sort(),
      );
      const toasters = page.locator(`[data-testid="hub-load-row"][data-hub="${TOASTERS}"]`);
      expect(await toasters.getByTestId('hub-load-devices').innerText()).toBe('4,321');
      expect(await toasters.getByTestId('hub-load-cap').innerText()).toBe('–');
      const age = /^(\d+) s ago$/.exec(await toasters.getByTestId('hub-load-age').innerText());
      expect(Number(age?.[1])).toBeGreaterThanOrEqual(19); // read 20 s before the rows were written
      const general = page.locator(`[data-testid="hub-load-row"][data-hub="${GENERAL[0]}"]`);
      expect(await general.getByTestId('hub-load-devices').innerText()).toBe('17');
      expect(await general.getByTestId('hub-load-age').innerText()).toMatch(
        /^60 min ago\s+stale\s+IoT Hub getDeviceStatistics failed \(HTTP 401\)$/,
      );
      await expect(page.getByTestId('banner-hub-load').isHidden()).resolves.toBe(true);

      // Only this host was asked, the key went as a header and never into a URL the page built.
      const urls = requests.map((request) => request.url());
      expect(urls.filter((url) => !url.startsWith(`${host.baseUrl}/`) && !url.startsWith('data:'))).toEqual(
        [],
      );
      const apiCalls = requests.filter((request) => request.resourceType() === 'fetch');
      expect(apiCalls.length).toBeGreaterThanOrEqual(5);
      for (const call of apiCalls) {
        expect(call.url()).not.toContain('code=');
        expect(call.headers()['x-functions-key']).toBe(KEY);
      }
      expect(await page.content()).not.toContain(KEY);
      expect(consoleErrors).toEqual([]);
      expect(await cspViolations()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('holds to its Content-Security-Policy: an injected inline script is refused', async () => {
    const { context, page, cspViolations } = await watchedPage();
    try {
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      await page.evaluate(() => {
        const { document } = globalThis as unknown as PageGlobals;
        const script = document.createElement('script');
        script.textContent = 'window.__injected = 3;';
        document.body.append(script);
      });
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__cspViolations.length > 0);
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__injected)).toBeUndefined();
      expect(await cspViolations()).toEqual([expect.stringMatching(/^script-src-elem inline$/)]);
    } finally {
      await context.close();
    }
  });

  it('refreshes by itself, shows a banner when an endpoint fails and keeps the last good data', async () => {
    const { context, page, consoleErrors } = await watchedPage();
    try {
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}&refresh=5`);
      await waitForRefresh(page, 1);
      expect(await textOf(page, 'refresh-every')).toBe('every 5 s');
      const openBefore = await textOf(page, 'count-open');
      await expect(page.getByTestId('banner-status').isHidden()).resolves.toBe(true);

      await page.route('**/api/audit/summary*', (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          headers: { 'Retry-After': '30' },
          body: JSON.stringify({
            error: 'The audit tables cannot be read right now; try again later.',
            retryable: true,
          }),
        }),
      );
      await waitForRefresh(page, 2); // the timer's, not a click
      for (const banner of ['banner-status', 'banner-errors', 'banner-groups']) {
        await expect(page.getByTestId(banner).innerText()).resolves.toMatch(
          /^Could not load \/api\/audit\/summary \(HTTP 503: The audit tables cannot be read right now; try again later\.\)\. Showing the data from \d\d:\d\d:\d\d UTC\.$/,
        );
      }
      expect(await textOf(page, 'count-open')).toBe(openBefore);
      await expect(page.getByTestId('banner-scans').isHidden()).resolves.toBe(true);
      await expect(page.getByTestId('banner-transitions').isHidden()).resolves.toBe(true);
      expect(await textOf(page, 'last-updated')).toMatch(/^Updated \d\d:\d\d:\d\d UTC · 1 failed$/);

      await page.unroute('**/api/audit/summary*');
      const before = await refreshes(page);
      await page.getByTestId('refresh-now').click();
      await waitForRefresh(page, before + 1);
      await expect(page.getByTestId('banner-status').isHidden()).resolves.toBe(true);
      // The browser reports the failed fetch itself; nothing else went wrong.
      expect(consoleErrors.filter((text) => !/status of 503/.test(text))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the decision sections as not available on an app without the decision log (404)', async () => {
    const { context, page } = await watchedPage();
    try {
      await page.route('**/api/decisions**', (route) => route.fulfill({ status: 404, body: '' }));
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      for (const banner of ['banner-hubs', 'banner-decisions']) {
        await expect(page.getByTestId(banner).innerText()).resolves.toMatch(
          /^Not available: this app does not serve \/api\/decisions(\/summary)? \(HTTP 404\)\.$/,
        );
      }
      expect(await textOf(page, 'count-allocations')).toBe('–');
      expect(await page.getByTestId('hub-bar').count()).toBe(0);
      // The rest of the page is whole, and a missing optional endpoint is not a failure.
      expect(await textOf(page, 'count-open')).toBe(String(expected.filter((row) => row.open).length + 1));
      await expect(page.getByTestId('banner-status').isHidden()).resolves.toBe(true);
      expect(await textOf(page, 'last-updated')).toMatch(/^Updated \d\d:\d\d:\d\d UTC$/);
    } finally {
      await context.close();
    }
  });

  it('says when the scan is resuming or a run is in progress', async () => {
    const { context, page } = await watchedPage();
    const run = {
      runId: 'run-3',
      scanId: 'scan-7',
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      endedAt: new Date().toISOString(),
      durationMs: 240_000,
      outcome: 'resumable',
      detail: 'time budget used up',
      resumeFrom: 'groups: fleet-42',
      registrationsRead: 12_345,
      problemsFound: 7,
      problemsResolved: 1,
    };
    const state = {
      running: false,
      scanId: 'scan-7',
      scanStartedAt: run.startedAt,
      phase: 'groups',
      group: 'fleet-42',
      runs: 3,
    };
    let answer: unknown = { items: [run], state };
    try {
      await page.route('**/api/audit/scans*', (route) => route.fulfill({ json: answer }));
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      expect(await textOf(page, 'scan-state')).toMatch(
        /^Scan resuming: the next run goes on with enrollment group fleet-42\. Scan started .+Z, 3 runs\.$/,
      );
      expect(await textOf(page, 'last-scan-outcome')).toBe('resumable');
      const row = page.getByTestId('scan-row');
      expect(await row.getByTestId('scan-registrations').innerText()).toBe('12,345');
      expect(await row.getByTestId('scan-outcome').innerText()).toMatch(
        /resumable\s+resumes at groups: fleet-42/,
      );
      expect(await row.locator('td').nth(2).innerText()).toBe('4 min 00 s');

      answer = {
        items: [run],
        state: { ...state, running: true, leaseOwner: 'run-4', leaseExpiresAt: '2030-01-01T00:05:00.000Z' },
      };
      await page.getByTestId('refresh-now').click();
      await waitForRefresh(page, 2);
      expect(await textOf(page, 'scan-state')).toBe(
        'A scan run is in progress (its lease runs until 2030-01-01 00:05:00Z).',
      );
    } finally {
      await context.close();
    }
  });

  it("shows each hub's devices, cap, fill and drain flag, and hub names as text", async () => {
    const { context, page, consoleErrors } = await watchedPage();
    const hub = (hostName: string, extra: Record<string, unknown>) => ({
      hostName,
      alias: null,
      counted: true,
      devices: null,
      maxDevices: null,
      fill: null,
      drain: false,
      readAt: null,
      ageSeconds: null,
      stale: true,
      lastError: null,
      ...extra,
    });
    const readAt = new Date(Date.now() - 40_000).toISOString();
    const answer = {
      at: new Date().toISOString(),
      maxAgeSeconds: 300,
      hubs: [
        hub('hub-half.azure-devices.net', {
          alias: 'half',
          devices: 500,
          maxDevices: 1000,
          fill: 0.5,
          readAt,
          ageSeconds: 40,
          stale: false,
        }),
        hub('hub-full.azure-devices.net', {
          devices: 1200,
          maxDevices: 1000,
          fill: 1.2,
          readAt,
          ageSeconds: 40,
          stale: false,
        }),
        hub('hub-retired.azure-devices.net', { drain: true, counted: false }),
        hub(HOSTILE_ID, {}),
      ],
    };
    try {
      await page.route('**/api/hubs*', (route) => route.fulfill({ json: answer }));
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      const row = (hostName: string) => page.locator(`[data-testid="hub-load-row"][data-hub="${hostName}"]`);
      const fillOf = async (hostName: string) => ({
        text: await row(hostName).getByTestId('hub-load-fill').innerText(),
        bar: await row(hostName)
          .locator('.meter > span')
          .evaluate((bar) => [bar.className, bar.getAttribute('style')]),
      });
      expect(await row('hub-half.azure-devices.net').getByTestId('hub-load-devices').innerText()).toBe('500');
      expect(await row('hub-half.azure-devices.net').getByTestId('hub-load-cap').innerText()).toBe('1,000');
      expect(await fillOf('hub-half.azure-devices.net')).toEqual({
        text: '50.0%',
        bar: ['f-ok', 'width: 50%;'],
      });
      expect(await fillOf('hub-full.azure-devices.net')).toEqual({
        text: '120.0%',
        bar: ['f-full', 'width: 100%;'],
      });
      expect(await row('hub-half.azure-devices.net').getByTestId('hub-load-age').innerText()).toBe(
        '40 s ago',
      );
      expect(await row('hub-retired.azure-devices.net').getByTestId('hub-load-drain').innerText()).toBe(
        'draining',
      );
      expect(await row('hub-retired.azure-devices.net').getByTestId('hub-load-age').innerText()).toBe(
        'not counted',
      );
      expect(await row('hub-half.azure-devices.net').getByTestId('hub-load-drain').innerText()).toBe('–');
      expect(await page.getByTestId('hub-load-row').getByText(HOSTILE_ID, { exact: true }).count()).toBe(1);
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__injected)).toBeUndefined();
      expect(await page.locator('#hub-load-note').innerText()).toMatch(/stale after 5 min 00 s/);
      expect(consoleErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('answers 401 without the function key, and works on a host that checks no keys', async () => {
    expect((await fetch(`${host.baseUrl}/api/dashboard`)).status).toBe(401);
    expect((await fetch(`${host.baseUrl}/api/dashboard?code=wrong`)).status).toBe(401);
    expect((await fetch(`${host.baseUrl}/api/audit/summary`)).status).toBe(401);

    const anonymous = await serveFunctions(FUNCTIONS, '');
    const { context, page, requests } = await watchedPage();
    try {
      await page.goto(`${anonymous.baseUrl}/api/dashboard`);
      await waitForRefresh(page, 1);
      expect(await textOf(page, 'count-open')).toBe(String(expected.filter((row) => row.open).length + 1));
      await expect(page.getByTestId('banner-status').isHidden()).resolves.toBe(true);
      const apiCalls = requests.filter((request) => request.resourceType() === 'fetch');
      expect(apiCalls.length).toBeGreaterThan(0);
      for (const call of apiCalls) expect(call.headers()).not.toHaveProperty('x-functions-key');
    } finally {
      await context.close();
      await anonymous.stop();
    }
  });
});

interface DrawnBar {
  series: string;
  day: string;
  value: number;
  y: number;
  height: number;
  title: string;
}

async function drawnBars(page: Page, chart: string): Promise<DrawnBar[]> {
  return page
    .getByTestId(`${chart}-chart`)
    .getByTestId('trend-bar')
    .evaluateAll((rects) =>
      rects.map((rect) => ({
        series: rect.getAttribute('data-series')!,
        day: rect.getAttribute('data-day')!,
        value: Number(rect.getAttribute('data-value')),
        y: Number(rect.getAttribute('y')),
        height: Number(rect.getAttribute('height')),
        title: rect.querySelector('title')?.textContent ?? '',
      })),
    );
}

/** The values drawn for each series, in day order. */
function bySeries(bars: readonly DrawnBar[]): Record<string, number[]> {
  const series: Record<string, number[]> = {};
  for (const bar of bars) (series[bar.series] ??= []).push(bar.value);
  return series;
}

async function legendOf(page: Page, chart: string): Promise<Array<[string, string]>> {
  return page
    .getByTestId(chart)
    .getByTestId('legend-entry')
    .evaluateAll((entries) =>
      entries.map((entry) => [
        entry.querySelector('.legend-name')?.textContent ?? '',
        entry.querySelector('.legend-total')?.textContent ?? '',
      ]),
    );
}

/** The table view as text: its header row, a row per day, its total row. */
async function tableOf(page: Page, chart: string): Promise<string[][]> {
  return page
    .getByTestId(`${chart}-table`)
    .locator('tr')
    .evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent ?? '')),
    );
}

describe('the trend charts of GET /api/dashboard', () => {
  const routeTrends = (page: Page, answer: () => unknown) =>
    page.route('**/api/trends*', (route) => route.fulfill({ json: answer() }));

  it('draws problems opened and resolved and allocations per hub per day, and the same numbers as tables', async () => {
    const { context, page, requests, consoleErrors, cspViolations } = await watchedPage();
    const answer = trendsView(MONTH);
    const days = answer.problems.map((entry) => entry.day);
    try {
      await routeTrends(page, () => answer);
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      const asked = requests.filter((request) => request.url().includes('/api/trends'));
      expect(asked.map((request) => new URL(request.url()).search)).toEqual(['?days=30']);
      expect(asked[0]!.headers()['x-functions-key']).toBe(KEY);
      await expect(page.getByTestId('banner-trend-problems').isHidden()).resolves.toBe(true);
      await mkdir(path.dirname(TRENDS_ARTIFACT), { recursive: true });
      await page
        .locator('.grid.two', { has: page.locator('#section-trend-problems') })
        .screenshot({ path: TRENDS_ARTIFACT });

      // Problems: a bar per day for each series, heights in proportion, a tooltip per bar, a legend with totals.
      const opened = MONTH.map((day) => day.opened);
      const resolved = MONTH.map((day) => day.resolved);
      const problemBars = await drawnBars(page, 'trend-problems');
      expect(bySeries(problemBars)).toEqual({ opened, resolved });
      expect(new Set(problemBars.map((bar) => bar.day))).toEqual(new Set(days));
      const perCount = problemBars.filter((bar) => bar.value > 0).map((bar) => bar.height / bar.value);
      for (const ratio of perCount) expect(ratio).toBeCloseTo(perCount[0]!, 1);
      const busiest = problemBars.find(
        (bar) => bar.series === 'opened' && bar.value === Math.max(...opened),
      )!;
      expect(busiest.title).toBe(`${busiest.day} · Opened: ${busiest.value} problems`);
      expect(await legendOf(page, 'trend-problems')).toEqual([
        ['Opened', String(sumOf(opened))],
        ['Resolved', String(sumOf(resolved))],
      ]);
      // The y axis from 0 to a round maximum just above the busiest day; days labelled sparsely, today always.
      const yTicks = await page.getByTestId('trend-problems-chart').getByTestId('y-tick').allTextContents();
      expect(yTicks).toEqual(['0', '2', '4', '6', '8']);
      const xTicks = await page.getByTestId('trend-problems-chart').getByTestId('x-tick').allTextContents();
      expect(xTicks.length).toBeGreaterThanOrEqual(4);
      expect(xTicks.length).toBeLessThanOrEqual(8);
      const month = new Date(`${days.at(-1)}T00:00:00Z`).toLocaleString('en-US', {
        month: 'short',
        timeZone: 'UTC',
      });
      expect(xTicks.at(-1)).toBe(`${month} ${Number(days.at(-1)!.slice(8))}`);
      const problemChart = page.getByRole('img', { name: /^Problems opened and resolved per day, / });
      await expect(problemChart.getAttribute('aria-label')).resolves.toContain(
        `Opened: ${sumOf(opened)} in all, at most ${Math.max(...opened)} a day`,
      );
      expect(await page.locator('#trend-problems-note').innerText()).toBe(
        'last 30 days (UTC) · rolled up 2 min ago',
      );

      // Allocations: the six busiest hubs and the other three as one series, stacked per day.
      const shown = TREND_HUBS.slice(0, 6);
      const others = TREND_HUBS.slice(6);
      const hubValues = (hub: string) => MONTH.map((day) => day.byHub[hub]!);
      const allocationBars = await drawnBars(page, 'trend-allocations');
      expect(bySeries(allocationBars)).toEqual({
        ...Object.fromEntries(shown.map((hub) => [hub, hubValues(hub)])),
        other: MONTH.map((day) => sumOf(others.map((hub) => day.byHub[hub]!))),
      });
      for (const day of days) {
        const stack = allocationBars.filter((bar) => bar.day === day);
        expect(stack).toHaveLength(7);
        for (let index = 1; index < stack.length; index++) {
          expect(stack[index]!.y + stack[index]!.height).toBeCloseTo(stack[index - 1]!.y, 1);
        }
      }
      expect(await legendOf(page, 'trend-allocations')).toEqual([
        ...shown.map((hub) => [hub, sumOf(hubValues(hub)).toLocaleString('en-US')]),
        ['Other hubs (3)', sumOf(others.flatMap(hubValues)).toLocaleString('en-US')],
      ]);
      const rejected = sumOf(MONTH.map((day) => day.rejected));
      expect(await page.locator('#trend-allocations-note').innerText()).toBe(
        `last 30 days (UTC) · ${rejected} not assigned · rolled up 2 min ago`,
      );
      expect(
        await page.getByRole('img', { name: /^Daily allocations by hub, / }).getAttribute('aria-label'),
      ).toContain(`hub-north.azure-devices.net: ${sumOf(hubValues(TREND_HUBS[0]!))} in all`);

      // "Show as table": the same numbers, a row per day; "Show as chart" brings the chart back.
      const toggle = page.getByTestId('toggle-trend-problems');
      expect(await toggle.innerText()).toBe('Show as table');
      await expect(page.getByTestId('trend-problems-table').isHidden()).resolves.toBe(true);
      await toggle.click();
      expect(await toggle.innerText()).toBe('Show as chart');
      await expect(page.getByTestId('trend-problems-chart').isHidden()).resolves.toBe(true);
      await expect(page.getByTestId('trend-problems-table').isVisible()).resolves.toBe(true);
      expect(await tableOf(page, 'trend-problems')).toEqual([
        ['Day (UTC)', 'Opened', 'Resolved'],
        ...days.map((day, index) => [day, String(opened[index]), String(resolved[index])]),
        ['Total', String(sumOf(opened)), String(sumOf(resolved))],
      ]);
      await toggle.click();
      expect(await toggle.innerText()).toBe('Show as table');
      await expect(page.getByTestId('trend-problems-chart').isVisible()).resolves.toBe(true);
      await expect(page.getByTestId('trend-problems-table').isHidden()).resolves.toBe(true);

      // The allocation table, with a total per day; its view stays a table across refreshes.
      const allocationToggle = page.getByTestId('toggle-trend-allocations');
      await allocationToggle.click();
      const before = await refreshes(page);
      await page.getByTestId('refresh-now').click();
      await waitForRefresh(page, before + 1);
      await expect(page.getByTestId('trend-allocations-table').isVisible()).resolves.toBe(true);
      await expect(page.getByTestId('trend-allocations-chart').isHidden()).resolves.toBe(true);
      expect(await allocationToggle.innerText()).toBe('Show as chart');
      const format = (value: number) => value.toLocaleString('en-US');
      const rowOf = (values: number[]) => [...values, sumOf(values)].map(format);
      expect(await tableOf(page, 'trend-allocations')).toEqual([
        ['Day (UTC)', ...shown, 'Other hubs (3)', 'Total'],
        ...MONTH.map((counts, index) => [
          days[index]!,
          ...rowOf([
            ...shown.map((hub) => counts.byHub[hub]!),
            sumOf(others.map((hub) => counts.byHub[hub]!)),
          ]),
        ]),
        ['Total', ...rowOf([...shown.map((hub) => sumOf(hubValues(hub))), sumOf(others.flatMap(hubValues))])],
      ]);
      // The problems chart kept its own view.
      await expect(page.getByTestId('trend-problems-chart').isVisible()).resolves.toBe(true);

      // The hostile hub name is text in the legend and the table, never markup.
      expect(await page.getByTestId('trend-allocations').getByText(HOSTILE_ID, { exact: true }).count()).toBe(
        2,
      );
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__injected)).toBeUndefined();
      expect(consoleErrors).toEqual([]);
      expect(await cspViolations()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("draws the roll-up the audit and the decision log keep: today's allocations per hub from GET /api/trends", async () => {
    const { context, page, consoleErrors } = await watchedPage(true);
    try {
      expect(trendWarnings).toEqual([]);
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      await page.getByTestId('toggle-trend-allocations').click();
      const [header, ...rows] = await tableOf(page, 'trend-allocations');
      const today = new Date().toISOString().slice(0, 10);
      const todayRow = rows.find((row) => row[0] === today)!;
      const perHub = Object.fromEntries(header!.slice(1, -1).map((hub, index) => [hub, todayRow[index + 1]]));
      expect(perHub).toEqual(
        Object.fromEntries(Object.entries(assigned).map(([hub, count]) => [hub, String(count)])),
      );
      await page.getByTestId('toggle-trend-problems').click();
      const [, ...problemRows] = await tableOf(page, 'trend-problems');
      const opened = problemRows.find((row) => row[0] === today)?.[1];
      expect(Number(opened)).toBeGreaterThan(0);
      expect(consoleErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('says there is no data when the window holds none', async () => {
    const { context, page, consoleErrors } = await watchedPage();
    const zero: TrendDay = { opened: 0, resolved: 0, byHub: {}, rejected: 0 };
    let answer: unknown = trendsView(
      Array.from({ length: 30 }, () => ({ ...zero, byHub: { [TREND_HUBS[0]!]: 0 } })),
    );
    const noData = async () => ({
      problems: await textOf(page, 'trend-problems'),
      allocations: await textOf(page, 'trend-allocations'),
      bars: await page.getByTestId('trend-bar').count(),
      charts: await page.locator('svg.trend').count(),
      toggles: [
        await page.getByTestId('toggle-trend-problems').isHidden(),
        await page.getByTestId('toggle-trend-allocations').isHidden(),
      ],
    });
    const NONE = {
      problems: 'No problems opened or resolved in the last 30 days.',
      allocations: 'No allocations in the last 30 days.',
      bars: 0,
      charts: 0,
      toggles: [true, true],
    };
    try {
      await routeTrends(page, () => answer);
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      expect(await noData()).toEqual(NONE); // every day zero

      answer = { ...trendsView([], 30), updatedAt: { problems: null, allocations: null } };
      await page.getByTestId('refresh-now').click();
      await waitForRefresh(page, 2);
      expect(await noData()).toEqual(NONE); // no days at all
      expect(await page.locator('#trend-problems-note').innerText()).toBe('last 30 days (UTC)');

      // Requests came, but none assigned a hub; problems on one day draw their chart.
      answer = trendsView([
        ...Array.from({ length: 29 }, () => ({ ...zero, rejected: 2 })),
        { ...zero, opened: 1 },
      ]);
      await page.getByTestId('refresh-now').click();
      await waitForRefresh(page, 3);
      expect(await textOf(page, 'trend-allocations')).toBe(
        'No device was assigned to a hub in the last 30 days (58 requests rejected or invalid).',
      );
      expect(bySeries(await drawnBars(page, 'trend-problems'))).toEqual({
        opened: [...Array<number>(29).fill(0), 1],
        resolved: Array<number>(30).fill(0),
      });
      expect(await page.getByTestId('trend-problems-chart').getByTestId('y-tick').allTextContents()).toEqual([
        '0',
        '1',
      ]);
      await expect(page.getByTestId('toggle-trend-problems').isVisible()).resolves.toBe(true);
      await expect(page.getByTestId('toggle-trend-allocations').isHidden()).resolves.toBe(true);
      expect(consoleErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps the charts under a banner when /api/trends fails', async () => {
    const { context, page, consoleErrors } = await watchedPage();
    let status = 200;
    try {
      await page.route('**/api/trends*', (route) =>
        status === 200
          ? route.fulfill({ json: trendsView(MONTH) })
          : route.fulfill({ status, json: { error: 'The trends table cannot be read right now.' } }),
      );
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      const drawn = await drawnBars(page, 'trend-allocations');
      status = 503;
      await page.getByTestId('refresh-now').click();
      await waitForRefresh(page, 2);
      for (const banner of ['banner-trend-problems', 'banner-trend-allocations']) {
        await expect(page.getByTestId(banner).innerText()).resolves.toMatch(
          /^Could not load \/api\/trends \(HTTP 503: The trends table cannot be read right now\.\)\. Showing the data from \d\d:\d\d:\d\d UTC\.$/,
        );
      }
      expect(await drawnBars(page, 'trend-allocations')).toEqual(drawn);
      await expect(page.getByTestId('toggle-trend-allocations').isVisible()).resolves.toBe(true);
      expect(await textOf(page, 'last-updated')).toMatch(/ · 1 failed$/);
      expect(consoleErrors.filter((text) => !/status of 503/.test(text))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a notice on an app without trends (404), and the rest of the page still works', async () => {
    const { context, page } = await watchedPage();
    try {
      await page.route('**/api/trends*', (route) => route.fulfill({ status: 404, body: '' }));
      await page.goto(`${host.baseUrl}/api/dashboard?code=${KEY}`);
      await waitForRefresh(page, 1);
      for (const banner of ['banner-trend-problems', 'banner-trend-allocations']) {
        await expect(page.getByTestId(banner).innerText()).resolves.toBe(
          'Not available: this app does not serve /api/trends (HTTP 404).',
        );
      }
      expect(await textOf(page, 'trend-problems')).toBe('No data.');
      expect(await textOf(page, 'trend-allocations')).toBe('No data.');
      await expect(page.getByTestId('toggle-trend-problems').isHidden()).resolves.toBe(true);
      await expect(page.getByTestId('toggle-trend-allocations').isHidden()).resolves.toBe(true);
      expect(
        await page
          .locator('section[data-source="trends"]')
          .evaluateAll((sections) => sections.map((section) => section.getAttribute('data-state'))),
      ).toEqual(['unavailable', 'unavailable']);
      expect(await textOf(page, 'count-open')).toBe(String(expected.filter((row) => row.open).length + 1));
      expect(await page.getByTestId('hub-bar').count()).toBe(Object.keys(assigned).length);
      await expect(page.getByTestId('banner-status').isHidden()).resolves.toBe(true);
      expect(await textOf(page, 'last-updated')).toMatch(/^Updated \d\d:\d\d:\d\d UTC$/);
    } finally {
      await context.close();
    }
  });
});
