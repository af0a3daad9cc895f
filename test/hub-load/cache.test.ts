// allocate's hub-load cache: a synchronous view of the counts plus this worker's own assignments, reset as refreshes
// bring counts read after them; stale counts kept through a storage outage with one warning (and one notice when
// it ends); on Azurite, the table unavailable from the start (no counts, allocation goes on).
import { setTimeout as delay } from 'node:timers/promises';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { hubLoadUnusable } from '../../src/allocation/hub-load';
import { HubLoadCache } from '../../src/hub-load/cache';
import { hubLoadCacheFromSettings } from '../../src/hub-load/cache-from-settings';
import { HubLoadStore } from '../../src/hub-load/store';
import { readRow, type HubLoadRow } from '../../src/hub-load/table';
import { readSettings } from '../../src/settings';
import { freshPrefix, HUB_A, HUB_B } from './support/environment';

const HOUR = 3_600_000;

function notices() {
  const lines: { level: 'info' | 'warn'; message: string }[] = [];
  return {
    lines,
    info: (message: string) => lines.push({ level: 'info', message }),
    warn: (message: string) => lines.push({ level: 'warn', message }),
    warnings: () => lines.filter((line) => line.level === 'warn'),
  };
}

const row = (host: string, devices: number, readAtMs: number): HubLoadRow =>
  readRow(
    host,
    { totalDeviceCount: devices, enabledDeviceCount: devices, disabledDeviceCount: 0 },
    new Date(readAtMs),
  );

/** A cache on rows the test sets (or a failure it sets), on a clock it moves; refreshes only when asked. */
function cacheOn(initial: HubLoadRow[]) {
  const state = { rows: initial, failure: undefined as Error | undefined, time: 1_000_000, reads: 0 };
  const recorded = notices();
  const cache = new HubLoadCache({
    hubs: [HUB_A, HUB_B],
    read: async () => {
      state.reads++;
      if (state.failure) throw state.failure;
      return state.rows;
    },
    refreshMs: HOUR,
    maxAgeMs: 300_000,
    notices: recorded,
    now: () => state.time,
  });
  return { cache, state, notices: recorded };
}

const caches: HubLoadCache[] = [];
afterEach(() => caches.splice(0).forEach((cache) => cache.close()));

function track<T extends { cache: HubLoadCache }>(made: T): T {
  caches.push(made.cache);
  return made;
}

describe('HubLoadCache', () => {
  it('has no counts before its first load, which starts by itself and is never awaited by view()', async () => {
    const { cache, state } = track(cacheOn([row(HUB_A, 10, 999_000)]));
    expect(cache.view()).toMatchObject({ readAtMs: undefined, maxAgeMs: 300_000 });
    expect(cache.view().devices.size).toBe(0);
    await cache.ready();
    expect(state.reads).toBe(1);
    expect(Object.fromEntries(cache.view().devices)).toEqual({ [HUB_A]: 10 });
    expect(cache.view().readAtMs).toBe(999_000);
  });

  it("uses the counts of the configured hubs only, the oldest read as the view's readAt", async () => {
    const { cache } = track(
      cacheOn([
        row(HUB_A, 10, 990_000),
        row(HUB_B.toUpperCase(), 20, 995_000),
        row('other.azure-devices.net', 1, 1),
      ]),
    );
    await cache.ready();
    expect(Object.fromEntries(cache.view().devices)).toEqual({ [HUB_A]: 10, [HUB_B]: 20 });
    expect(cache.view().readAtMs).toBe(990_000);
  });

  it('adds its own assignments until a refresh brings counts read after them', async () => {
    const { cache, state } = track(cacheOn([row(HUB_A, 10, 990_000), row(HUB_B, 20, 990_000)]));
    await cache.ready();
    const first = cache.view();
    state.time += 1000;
    cache.recordAssignment(HUB_A);
    cache.recordAssignment(HUB_A.toUpperCase());
    state.time += 1000;
    cache.recordAssignment(HUB_B);
    cache.recordAssignment('not-counted.azure-devices.net');
    expect(Object.fromEntries(cache.view().devices)).toEqual({ [HUB_A]: 12, [HUB_B]: 21 });
    expect(cache.view()).toBe(first); // one view until the next refresh: nothing copied per request

    // Read between the two: HUB_A's count includes its two, HUB_B's predates its one.
    state.rows = [row(HUB_A, 12, 1_001_500), row(HUB_B, 20, 1_001_500)];
    await cache.refresh();
    expect(Object.fromEntries(cache.view().devices)).toEqual({ [HUB_A]: 12, [HUB_B]: 21 });
    state.rows = [row(HUB_A, 12, 1_003_000), row(HUB_B, 21, 1_003_000)];
    await cache.refresh();
    expect(Object.fromEntries(cache.view().devices)).toEqual({ [HUB_A]: 12, [HUB_B]: 21 });
    cache.recordAssignment(HUB_B);
    expect(cache.view().devices.get(HUB_B)).toBe(22);
  });

  it('keeps the last counts through an outage, which go stale, with one warning and one notice when it ends', async () => {
    const { cache, state, notices } = track(cacheOn([row(HUB_A, 10, 1_000_000), row(HUB_B, 20, 1_000_000)]));
    await cache.ready();
    state.failure = new Error('Table storage listEntities on HHubLoad failed: connect ECONNREFUSED');
    for (let i = 0; i < 5; i++) {
      state.time += 100_000;
      await cache.refresh();
    }
    expect(Object.fromEntries(cache.view().devices)).toEqual({ [HUB_A]: 10, [HUB_B]: 20 });
    expect(hubLoadUnusable(cache.view(), state.time)).toMatch(
      /^hub device counts are 500 s old \(more than 300 s\)$/,
    );
    expect(notices.warnings()).toEqual([
      {
        level: 'warn',
        message: expect.stringMatching(
          /^Hub load: the HubLoad table cannot be read \(.*ECONNREFUSED\); allocation keeps the counts read at 1970-01-01T00:16:40\.000Z, stale 300 s after that\. Trying again every 3600 s\.$/,
        ),
      },
    ]);
    state.failure = undefined;
    state.rows = [row(HUB_A, 11, state.time), row(HUB_B, 20, state.time)];
    await cache.refresh();
    expect(hubLoadUnusable(cache.view(), state.time)).toBeUndefined();
    expect(notices.lines.at(-1)).toEqual({
      level: 'info',
      message: expect.stringMatching(/can be read again/),
    });
  });

  it('forgets own assignments older than the longest counts stay usable', async () => {
    const { cache, state } = track(cacheOn([row(HUB_A, 10, 1_000_000)]));
    await cache.ready();
    state.failure = new Error('down');
    cache.recordAssignment(HUB_A);
    state.time += 400_000;
    await cache.refresh();
    state.failure = undefined;
    await cache.refresh();
    expect(cache.view().devices.get(HUB_A)).toBe(10);
  });

  it('makes no read after close()', async () => {
    const { cache, state } = track(cacheOn([]));
    await cache.ready();
    cache.close();
    await cache.refresh();
    expect(state.reads).toBe(1);
  });
});

describe('the cache of the app settings, on Azurite', () => {
  let azurite: Azurite;

  beforeAll(async () => {
    azurite = await startAzurite();
  });

  afterAll(async () => {
    await azurite?.stop();
  });

  const settingsFor = (prefix: string, connectionString = azurite.connectionString) =>
    readSettings({
      AUDIT_STORAGE_CONNECTION_STRING: connectionString,
      AUDIT_TABLE_PREFIX: prefix,
      HUB_LOAD_HUBS: `${HUB_A},${HUB_B}`,
      HUB_LOAD_REFRESH_SECONDS: '1',
    });

  it('is none without HUB_LOAD_HUBS', () => {
    const settings = readSettings({ AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString });
    expect(hubLoadCacheFromSettings(settings, {}, { notices: notices() })).toBeUndefined();
  });

  it('loads the table, and refreshes by itself every HUB_LOAD_REFRESH_SECONDS', async () => {
    const prefix = freshPrefix();
    const store = new HubLoadStore({
      connection: { kind: 'connectionString', connectionString: azurite.connectionString },
      tablePrefix: prefix,
    });
    const now = Date.now();
    await store.write([row(HUB_A, 5, now), row(HUB_B, 6, now)]);
    const recorded = notices();
    const cache = hubLoadCacheFromSettings(settingsFor(prefix), {}, { notices: recorded })!;
    caches.push(cache);
    await cache.ready();
    expect(Object.fromEntries(cache.view().devices)).toEqual({ [HUB_A]: 5, [HUB_B]: 6 });
    await store.write([row(HUB_A, 7, now + 1)]);
    for (let waited = 0; cache.view().devices.get(HUB_A) !== 7; waited += 50) {
      if (waited > 5000) throw new Error('the cache did not refresh');
      await delay(50);
    }
    expect(recorded.lines).toEqual([]);
  });

  it('has no counts when the table does not exist yet, and says so once', async () => {
    const recorded = notices();
    const cache = hubLoadCacheFromSettings(settingsFor(freshPrefix()), {}, { notices: recorded })!;
    caches.push(cache);
    await cache.ready();
    await cache.refresh();
    expect(cache.view().readAtMs).toBeUndefined();
    expect(recorded.lines).toEqual([
      {
        level: 'info',
        message: expect.stringMatching(/^Hub load: no device counts in H\w+HubLoad for HUB_LOAD_HUBS yet/),
      },
    ]);
  });

  it('has no counts while storage is unreachable, and warns once', async () => {
    const stopped = await startAzurite();
    const connectionString = stopped.connectionString;
    await stopped.stop();
    const recorded = notices();
    const cache = hubLoadCacheFromSettings(
      settingsFor(freshPrefix(), connectionString),
      {},
      { notices: recorded },
    )!;
    caches.push(cache);
    await cache.ready();
    await cache.refresh();
    expect(cache.view()).toMatchObject({ readAtMs: undefined });
    expect(hubLoadUnusable(cache.view(), Date.now())).toBe('no hub device counts yet');
    expect(recorded.warnings()).toEqual([
      {
        level: 'warn',
        message: expect.stringMatching(
          /^Hub load: H\w+HubLoad cannot be read \(.+\); allocation has no hub counts until it can/,
        ),
      },
    ]);
    expect(JSON.stringify(recorded.lines)).not.toContain('AccountKey=');
  });
});
