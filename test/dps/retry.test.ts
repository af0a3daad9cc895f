import { DpsError, DpsThrottledError, DpsTransientError } from '../../src/dps/errors';
import { backoffDelay, defaultRetryOptions, parseRetryAfter, withRetry } from '../../src/dps/retry';
import { FakeClock } from './support/fake-clock';

const transient = () => new DpsTransientError('boom', { operation: 'op', retryable: true });

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);

  it.each([
    ['0', 0],
    ['7', 7000],
    [' 3 ', 3000],
    [new Date(now + 5000).toUTCString(), 5000],
    [new Date(now - 5000).toUTCString(), 0],
  ])('reads %j as %i ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([undefined, '', '-1', '1.5', 'soon', '2026-13-45', 'Mon, 99 Foo 2026'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const options = { ...defaultRetryOptions, baseDelayMs: 100, maxDelayMs: 1000 };

  it('draws from [0, base * 2^(n-1)) capped at maxDelayMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options, () => 0.999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, options, () => 0)).toBe(0);
  });
});

describe('withRetry', () => {
  const options = { ...defaultRetryOptions, maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

  it('returns the first success and reports each retry', async () => {
    const clock = new FakeClock();
    const retries: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 3) throw transient();
        return 'ok';
      },
      options,
      { clock, onRetry: (_error, attempt) => retries.push(attempt) },
    );
    expect(result).toBe('ok');
    expect(retries).toEqual([1, 2]);
  });

  it('stops at maxAttempts and sets attempts on the error', async () => {
    const clock = new FakeClock();
    const error = await withRetry(
      async () => {
        throw transient();
      },
      options,
      { clock },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DpsTransientError);
    expect((error as DpsError).attempts).toBe(4);
    expect(clock.sleeps).toHaveLength(3);
  });

  it('does not retry non-retryable or foreign errors', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new DpsError('no', { operation: 'op' });
        },
        options,
        { clock },
      ),
    ).rejects.toThrow('no');
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new TypeError('bug');
        },
        options,
        { clock },
      ),
    ).rejects.toThrow(TypeError);
    expect(calls).toBe(2);
  });

  it('uses the server wait when there is one, and never starts a retry past maxElapsedMs', async () => {
    const clock = new FakeClock();
    const throttled = (retryAfterMs: number) =>
      new DpsThrottledError('slow down', { operation: 'op', retryable: true, retryAfterMs });
    const waits = [4000, 4000, 4000];
    const error = await withRetry(
      async () => {
        throw throttled(waits.shift() ?? 4000);
      },
      { ...options, maxAttempts: 10, maxElapsedMs: 10_000 },
      { clock },
    ).catch((e: unknown) => e);
    expect(clock.sleeps).toEqual([4000, 4000]); // a third wait would end at 12 s
    expect((error as DpsError).attempts).toBe(3);
  });
});
