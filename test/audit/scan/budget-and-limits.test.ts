// Small parts of the scan: the run budget, bounded concurrency.
import { setTimeout as delay } from 'node:timers/promises';
import { RunBudget } from '../../../src/audit/scan/budget';
import { mapLimit } from '../../../src/concurrency/map-limit';

describe('RunBudget', () => {
  it('stops on time and on operations', () => {
    let now = 1000;
    let used = 0;
    const budget = new RunBudget({
      startedAtMs: 1000,
      timeBudgetMs: 500,
      maxOperations: 10,
      operationsUsed: () => used,
      now: () => now,
    });
    expect(budget.exhausted()).toBeUndefined();
    used = 9;
    expect(budget.operationsLeft()).toBe(1);
    expect(budget.exhausted(1)).toBeUndefined();
    expect(budget.exhausted(2)).toMatch(/operations budget used \(9 of 10\)/);
    used = 0;
    now = 1500;
    expect(budget.exhausted()).toMatch(/time budget/);
  });

  it('stops before a wait for the DPS per-minute limit would run past the time budget', () => {
    let wait = 0;
    const budget = new RunBudget({
      startedAtMs: 0,
      timeBudgetMs: 20_000,
      maxOperations: 10,
      operationsUsed: () => 0,
      now: () => 15_000,
      admissionDelayMs: () => wait,
    });
    expect(budget.exhausted()).toBeUndefined();
    wait = 4_999;
    expect(budget.exhausted()).toBeUndefined();
    wait = 5_000;
    expect(budget.exhausted()).toBe(
      'time budget of 20 s used (the next DPS call would wait 5 s for the per-minute limit)',
    );
  });
});

describe('mapLimit', () => {
  it('keeps the order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const result = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await delay(n);
      running--;
      return n * 10;
    });
    expect(result).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
  });

  it('starts nothing after a failure and waits for the calls in flight', async () => {
    const started: number[] = [];
    let finished = 0;
    const outcome = mapLimit([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await delay(n === 1 ? 1 : 20);
      finished++;
      if (n === 1) throw new Error('boom');
      return n;
    });
    await expect(outcome).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
    expect(finished).toBe(2);
  });
});
