// decide() per second with the leastLoaded strategy against hashed, over the same parsed requests (10 linked hubs,
// fresh counts for all), and leastLoaded as allocate runs it: the cache's view() before each decision and
// recordAssignment() after it.
import { compilePolicy } from '../src/allocation/engine';
import { hubLoadOf } from '../src/allocation/hub-load';
import { parsePolicy } from '../src/allocation/policy';
import { allocationRequestSchema, type AllocationRequest } from '../src/allocation/request';
import { dpsRequestBody } from '../dev/fixtures/dps-requests';
import { HubLoadCache } from '../src/hub-load/cache';
import { readRow } from '../src/hub-load/table';
import { measureRate, type RateOptions } from './allocation-inprocess';
import { figure, type BenchOptions, type Figure } from './figures';

const HUBS = Array.from({ length: 10 }, (_, i) => `bench-load-${i + 1}.azure-devices.net`);
const CORPUS_SIZE = 4096; // a power of two: i & (CORPUS_SIZE - 1) cycles through it
const HOUR = 3_600_000;

function policyWith(strategy: 'hashed' | 'leastLoaded') {
  return parsePolicy(
    {
      hubs: Object.fromEntries(HUBS.map((hostName, i) => [`h${i + 1}`, { hostName, maxDevices: 1_000_000 }])),
      defaults: { strategy: { type: strategy } },
      fallback: { action: 'allocate' },
    },
    `benchmark ${strategy} policy`,
  );
}

function requests(): AllocationRequest[] {
  return Array.from({ length: CORPUS_SIZE }, (_, i) =>
    allocationRequestSchema.parse(
      dpsRequestBody({
        registrationId: `bench-load-device-${i}`,
        group: 'bench-load-fleet',
        attestation: 'symmetricKey',
        linkedHubs: HUBS,
      }),
    ),
  );
}

export async function measureDecide(options: BenchOptions): Promise<Figure[]> {
  const corpus = requests();
  const last = CORPUS_SIZE - 1;
  const now = Date.now();
  const view = hubLoadOf(
    HUBS.map((hub, i) => [hub, 10_000 + 997 * i] as const),
    now,
    HOUR,
  );
  const hashed = compilePolicy(policyWith('hashed'));
  const leastLoaded = compilePolicy(policyWith('leastLoaded'));
  const decideOptions = { now, hubLoad: view };
  const spread = new Set(
    corpus.slice(0, 64).map((request) => leastLoaded.decide(request, decideOptions).hub),
  );
  if (spread.size !== 1) throw new Error('leastLoaded did not pick the one emptiest hub on fixed counts');

  const cache = new HubLoadCache({
    hubs: HUBS,
    read: async () =>
      HUBS.map((hub, i) =>
        readRow(
          hub,
          { totalDeviceCount: 10_000 + 997 * i, enabledDeviceCount: 0, disabledDeviceCount: 0 },
          new Date(now),
        ),
      ),
    refreshMs: HOUR,
    maxAgeMs: HOUR,
    notices: { info: () => undefined, warn: () => undefined },
  });
  await cache.ready();

  const rateOptions: RateOptions = options.quick
    ? { warmupMs: 300, trialMs: 300, trials: 3 }
    : { warmupMs: 1000, trialMs: 1000, trials: 5 };
  const hashedRate = measureRate(
    (i) => (hashed.decide(corpus[i & last]!, decideOptions).hub ? 1 : 0),
    rateOptions,
  );
  const leastRate = measureRate(
    (i) => (leastLoaded.decide(corpus[i & last]!, decideOptions).hub ? 1 : 0),
    rateOptions,
  );
  const withCache = measureRate((i) => {
    const decision = leastLoaded.decide(corpus[i & last]!, { now, hubLoad: cache.view() });
    cache.recordAssignment(decision.hub!);
    return 1;
  }, rateOptions);
  const spreadWithCache = cache.view().devices.size;
  cache.close();

  const trials = `median of ${rateOptions.trials} x ${rateOptions.trialMs} ms after ${rateOptions.warmupMs} ms warm-up`;
  const setup = `${CORPUS_SIZE} parsed requests, ${HUBS.length} linked hubs with fresh counts (one policy rule: the fallback)`;
  return [
    figure('decide() with hashed', hashedRate, '/s', { note: `${trials}; ${setup}` }),
    figure('decide() with leastLoaded', leastRate, '/s', {
      goal: { atLeast: Math.round(0.8 * hashedRate) },
      note: 'fixed counts: one hub is the emptiest, no hash to break a tie',
    }),
    figure('leastLoaded rate / hashed rate', leastRate / hashedRate, 'x', {
      goal: { atLeast: 0.8 },
      note: 'goal: within 20% of hashed',
    }),
    figure('decide() with leastLoaded, cache view() + recordAssignment() each', withCache, '/s', {
      goal: { atLeast: Math.round(0.8 * hashedRate) },
      note:
        `as allocate runs it: each assignment moves the counts (${spreadWithCache} hubs), so the emptiest hubs ` +
        'tie and the hash breaks the ties',
    }),
  ];
}
