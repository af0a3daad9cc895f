import { OperationBudget } from '../../src/dps/rate-limiter';
import { FakeClock } from './support/fake-clock';

describe('OperationBudget', () => {
  it('admits at most the budget in any window, waiting only as long as needed', async () => {
    const clock = new FakeClock(0);
    const budget = new OperationBudget({ operationsPerMinute: 5, clock });
    const admittedAt: number[] = [];

    for (let i = 0; i < 12; i++) {
      await budget.acquire();
      admittedAt.push(clock.now());
      clock.advance(1000); // each operation takes a second
    }

    for (let i = 0; i + 5 < admittedAt.length; i++) {
      expect(admittedAt[i + 5]! - admittedAt[i]!).toBeGreaterThanOrEqual(60_000);
    }
    expect(admittedAt.slice(0, 6)).toEqual([0, 1000, 2000, 3000, 4000, 60_000]);
    expect(budget.stats()).toEqual({ operations: 12, waitedMs: 55_000 * 2 });
  });

  it('says how long the next operation would wait, as acquire() then waits', async () => {
    const clock = new FakeClock(0);
    const budget = new OperationBudget({ operationsPerMinute: 3, clock });
    for (let i = 0; i < 3; i++) {
      expect(budget.admissionDelayMs()).toBe(0);
      await budget.acquire();
      clock.advance(10_000);
    }
    // Admitted at 0, 10 s and 20 s; now 30 s: the next goes when the first leaves the window, at 60 s.
    expect(budget.admissionDelayMs()).toBe(30_000);
    await budget.acquire();
    expect(clock.sleeps.at(-1)).toBe(30_000);
    clock.advance(5_000); // 65 s: admitted at 10, 20 and 60 s; the next goes at 70 s
    expect(budget.admissionDelayMs()).toBe(5_000);
  });

  it('serves concurrent callers in arrival order', async () => {
    const clock = new FakeClock(0);
    const budget = new OperationBudget({ operationsPerMinute: 2, clock });
    const order: number[] = [];

    await Promise.all([0, 1, 2, 3, 4].map((i) => budget.acquire().then(() => order.push(i))));

    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(clock.sleeps).toEqual([60_000, 60_000]);
  });

  it('lets an aborted waiter go without blocking the ones behind it', async () => {
    const clock = new FakeClock(0);
    const budget = new OperationBudget({ operationsPerMinute: 1, clock });
    await budget.acquire();
    const controller = new AbortController();
    controller.abort();

    await expect(budget.acquire(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    await expect(budget.acquire()).resolves.toBeUndefined();
    expect(budget.stats().operations).toBe(2);
  });

  it('rejects a budget that is not a positive integer', () => {
    expect(() => new OperationBudget({ operationsPerMinute: 0, clock: new FakeClock() })).toThrow(RangeError);
    expect(() => new OperationBudget({ operationsPerMinute: 1.5, clock: new FakeClock() })).toThrow(
      RangeError,
    );
  });
});
