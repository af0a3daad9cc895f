// allocate's latency in process (the handler, decision log off) at a fixed request rate with leastLoaded, without
// hub counts and with the HubLoad cache refreshing from Azurite every second: the refresh runs on the same event
// loop, so a cost there would show in the requests' tail. Azurite runs in a child process.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { dpsRequestBody } from '../dev/fixtures/dps-requests';
import { createAllocateHandler, type AllocateHandler } from '../src/decisions/allocate-handler';
import { HubLoadStore } from '../src/hub-load/store';
import { readRow } from '../src/hub-load/table';
import { figure, type Figure } from './figures';
import { percentile, sortedCopy } from './stats';
import type { AzuriteUsage } from './support/azurite-child';
import { childUsage, type BenchChild } from './support/child-process';
import type { AzuriteReady } from './support/azurite-child';

const RATE_PER_SECOND = 500;
const ROUNDS = 3;
const HUBS = Array.from({ length: 10 }, (_, i) => `bench-webhook-${i + 1}.azure-devices.net`);
const PREFIX = 'BenchHubLoad';
const POLICY = JSON.stringify({
  hubs: Object.fromEntries(HUBS.map((hostName, i) => [`h${i + 1}`, { hostName, maxDevices: 1_000_000 }])),
  defaults: { strategy: { type: 'leastLoaded' } },
  fallback: { action: 'allocate' },
});

const body = (index: number) =>
  JSON.stringify(
    dpsRequestBody({
      registrationId: `bench-webhook-device-${index}`,
      group: 'bench-webhook-fleet',
      attestation: 'symmetricKey',
      linkedHubs: HUBS,
    }),
  );

interface Run {
  sorted: Float64Array;
  loopDelayMaxMs: number;
  failed: number;
}

const silentLog = { log: () => undefined, warn: () => undefined };

/** `count` allocations started at a fixed rate (open loop), each timed from its start to its answer. */
async function runAtRate(handler: AllocateHandler, count: number, first: number): Promise<Run> {
  const latency = new Float64Array(count);
  const bodies = Array.from({ length: count }, (_, i) => body(first + i));
  let failed = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / RATE_PER_SECOND - performance.now();
    if (wait >= 1) await delay(wait);
    pending.push(
      (async () => {
        const begin = performance.now();
        const answer = await handler.answerWithOutcome(bodies[i]!, silentLog);
        latency[i] = performance.now() - begin;
        if (answer.status !== 200) failed++;
      })(),
    );
  }
  await Promise.all(pending);
  loopDelay.disable();
  return { sorted: sortedCopy(latency), loopDelayMaxMs: loopDelay.max / 1e6, failed };
}

function rows(label: string, run: Run, extra: { goal?: number; note: string }): Figure[] {
  return [
    figure(`allocate latency, ${label}, p50`, percentile(run.sorted, 50), 'ms'),
    figure(`allocate latency, ${label}, p99`, percentile(run.sorted, 99), 'ms', {
      ...(extra.goal === undefined ? {} : { goal: { atMost: extra.goal } }),
    }),
    figure(`allocate latency, ${label}, max`, run.sorted[run.sorted.length - 1] ?? Number.NaN, 'ms', {
      note: `${run.sorted.length} allocations at ${RATE_PER_SECOND}/s, ${run.failed} not 200; event-loop delay max ${run.loopDelayMaxMs.toFixed(1)} ms; ${extra.note}`,
    }),
  ];
}

export async function measureWebhookWithRefresh(
  azurite: BenchChild<AzuriteReady>,
  quick: boolean,
): Promise<Figure[]> {
  const connectionString = azurite.ready.connectionString;
  const store = new HubLoadStore({
    connection: { kind: 'connectionString', connectionString },
    tablePrefix: PREFIX,
  });
  const now = new Date();
  await store.write(
    HUBS.map((hub, i) =>
      readRow(hub, { totalDeviceCount: 1000 + i, enabledDeviceCount: 1000 + i, disabledDeviceCount: 0 }, now),
    ),
  );
  const count = quick ? 1000 : 4000;
  const base = {
    AUDIT_STORAGE_CONNECTION_STRING: connectionString,
    AUDIT_TABLE_PREFIX: PREFIX,
    DECISION_LOG_ENABLED: 'false',
    ALLOCATION_POLICY: POLICY,
  };
  const without = createAllocateHandler({ env: base });
  const withRefresh = createAllocateHandler({
    env: { ...base, HUB_LOAD_HUBS: HUBS.join(','), HUB_LOAD_REFRESH_SECONDS: '1' },
    notices: { info: () => undefined, warn: (message) => console.warn(message) },
  });
  try {
    await withRefresh.hubLoad!.ready();
    // Warm-up of both, then the two measured runs in turn, ROUNDS times: the best p99 of each is reported.
    await runAtRate(without, 500, 0);
    await runAtRate(withRefresh, 500, 0);
    await childUsage<AzuriteUsage>(azurite);
    const baseline: Run[] = [];
    const refreshed: Run[] = [];
    let refreshRequests = 0;
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push(await runAtRate(without, count, count * round));
      await childUsage<AzuriteUsage>(azurite);
      refreshed.push(await runAtRate(withRefresh, count, count * round));
      refreshRequests += (await childUsage<AzuriteUsage>(azurite)).requests;
    }
    const best = (runs: Run[]) =>
      runs.reduce((a, b) => (percentile(a.sorted, 99) <= percentile(b.sorted, 99) ? a : b));
    const noCounts = best(baseline);
    const counted = best(refreshed);
    const seconds = (ROUNDS * count) / RATE_PER_SECOND;
    return [
      ...rows('leastLoaded without hub counts', noCounts, {
        note: 'no HUB_LOAD_HUBS: no cache, the hash decides',
      }),
      ...rows('leastLoaded, cache refreshing every 1 s', counted, {
        goal: percentile(noCounts.sorted, 99) * 1.2,
        note:
          `HUB_LOAD_REFRESH_SECONDS 1 against Azurite: ${refreshRequests} table requests in its ${seconds} s of ` +
          `runs (best p99 of ${ROUNDS} runs each, interleaved); goal: p99 within 20% of the run without counts`,
      }),
    ];
  } finally {
    await without.close();
    await withRefresh.close();
  }
}
