// Decisions per second in this process, for the 10-rule benchmark policy: the whole webhook answer on the raw
// body (JSON.parse + zod validation + decide), and decide() alone on requests parsed beforehand.
import { compilePolicy } from '../src/allocation/engine';
import { parsePolicy } from '../src/allocation/policy';
import { allocationRequestSchema } from '../src/allocation/request';
import { answerAllocationRequest } from '../src/allocation/webhook';
import { BENCH_POLICY, benchBodies } from './allocation-workload';
import { figure, type BenchOptions, type Figure } from './figures';
import { median } from './stats';

const DECISIONS_GOAL = { atLeast: 100_000 };
const CORPUS_SIZE = 4096;

export interface RateOptions {
  warmupMs: number;
  trialMs: number;
  trials: number;
}

/** Calls `operation(i)` for i = 0, 1, 2, ... and returns the median rate (per second) over the trials. */
export function measureRate(operation: (i: number) => number, options: RateOptions): number {
  let sink = 0;
  const runFor = (ms: number, start: number): { count: number; seconds: number } => {
    const began = performance.now();
    let i = start;
    for (;;) {
      // Read the clock every 256 operations only: it costs about as much as a decision.
      for (let k = 0; k < 256; k++) sink += operation(i++);
      const elapsed = performance.now() - began;
      if (elapsed >= ms) return { count: i - start, seconds: elapsed / 1000 };
    }
  };
  let next = runFor(options.warmupMs, 0).count;
  const rates: number[] = [];
  for (let t = 0; t < options.trials; t++) {
    const { count, seconds } = runFor(options.trialMs, next);
    next += count;
    rates.push(count / seconds);
  }
  if (sink === -1) console.log('unreachable'); // keeps the results observable, so nothing is optimised away
  return median(rates);
}

export function measureInProcess(options: BenchOptions): Figure[] {
  const allocator = compilePolicy(parsePolicy(BENCH_POLICY, 'benchmark policy'));
  const bodies = benchBodies(CORPUS_SIZE);
  const requests = bodies.map((body) => allocationRequestSchema.parse(JSON.parse(body)));
  const limits = { maxBodyBytes: 128 * 1024 };

  const decidingRules = new Map<string, number>();
  let assigned = 0;
  for (const request of requests) {
    const decision = allocator.decide(request);
    if (decision.outcome === 'assigned') assigned++;
    decidingRules.set(decision.rule ?? '(none)', (decidingRules.get(decision.rule ?? '(none)') ?? 0) + 1);
  }
  const largest = Math.max(...[...decidingRules.values()]);
  const smallest = Math.min(...[...decidingRules.values()]);

  const rateOptions: RateOptions = options.quick
    ? { warmupMs: 300, trialMs: 300, trials: 3 }
    : { warmupMs: 1000, trialMs: 1000, trials: 5 };
  const last = CORPUS_SIZE - 1; // CORPUS_SIZE is a power of two: i & last cycles through the corpus
  const webhookRate = measureRate(
    (i) => answerAllocationRequest(allocator, bodies[i & last]!, limits).status,
    rateOptions,
  );
  const decideRate = measureRate((i) => (allocator.decide(requests[i & last]!).hub ? 1 : 0), rateOptions);

  const trials = `median of ${rateOptions.trials} x ${rateOptions.trialMs} ms after ${rateOptions.warmupMs} ms warm-up`;
  const corpus =
    `${CORPUS_SIZE} distinct bodies; ${decidingRules.size} deciding rules (incl. fallback), ` +
    `${smallest}-${largest} bodies each; ${((100 * assigned) / CORPUS_SIZE).toFixed(0)}% assigned`;
  return [
    figure('in process: webhook answers (JSON.parse + zod + decide), 10-rule policy', webhookRate, '/s', {
      goal: DECISIONS_GOAL,
      note: `${trials}; ${corpus}`,
    }),
    figure('in process: decide() alone on parsed requests', decideRate, '/s', {
      goal: DECISIONS_GOAL,
      note: trials,
    }),
    figure('in process: mean time per webhook answer', 1e6 / webhookRate, 'us'),
  ];
}
