// The backoff and outage bookkeeping shared by the decision log's writer and the events publisher.
import { OutageRetry } from '../../src/concurrency/outage-retry';
import { attemptWithin, waitUntil } from '../../src/concurrency/time-limit';
import { IdleWaiters } from '../../src/concurrency/idle-waiters';

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

it('doubles the delay from the first to the most, with ±20 % jitter, and says when an outage begins and ends', () => {
  jest.useFakeTimers();
  const retries: number[] = [];
  const retry = new OutageRetry({ initialMs: 100, maxMs: 500, retry: () => retries.push(Date.now()) });
  jest.spyOn(Math, 'random').mockReturnValue(1); // the top of the jitter: +20 %

  const delays: number[] = [];
  for (let failure = 0; failure < 5; failure++) {
    const before = Date.now();
    expect(retry.failed(false)).toBe(failure === 0);
    jest.runOnlyPendingTimers();
    delays.push(retries.at(-1)! - before);
  }
  expect(delays).toEqual([120, 240, 480, 600, 600]);
  expect(retry).toMatchObject({ failing: true, failures: 5 });

  jest.advanceTimersByTime(1_000);
  expect(retry.succeeded()).toBe(1_000 + delays.reduce((sum, delay) => sum + delay, 0));
  expect(retry).toMatchObject({ failing: false, failures: 0 });
  expect(retry.succeeded()).toBeUndefined();
});

it('schedules nothing once closed, and cancel stops a scheduled retry', () => {
  jest.useFakeTimers();
  const retried = jest.fn();
  const retry = new OutageRetry({ initialMs: 100, maxMs: 500, retry: retried });
  retry.failed(true);
  retry.failed(false);
  retry.cancel();
  jest.advanceTimersByTime(10_000);
  expect(retried).not.toHaveBeenCalled();
  expect(retry.failing).toBe(true);
});

it('attemptWithin answers the error instead of rejecting, and aborts an attempt that outlives its limit', async () => {
  expect(await attemptWithin(1_000, () => Promise.resolve('done'))).toBeUndefined();
  const refused = new Error('refused');
  expect(await attemptWithin(1_000, () => Promise.reject(refused))).toBe(refused);

  let signal: AbortSignal | undefined;
  const hanging = await attemptWithin(20, (given) => {
    signal = given;
    return new Promise(() => undefined);
  });
  expect(hanging).toMatchObject({ name: 'TimeoutError', message: 'no answer within 20 ms' });
  expect(signal?.aborted).toBe(true);
});

it('waitUntil stops waiting at the deadline; IdleWaiters resolve on notify or after their timeout', async () => {
  // Work that never ends: without the deadline this test would run into Jest's timeout.
  await waitUntil(new Promise(() => undefined), Date.now() + 20);

  const idle = new IdleWaiters();
  let notified = false;
  const waiting = idle.wait().then(() => (notified = true));
  const timedOut = idle.wait(10);
  await timedOut;
  expect(notified).toBe(false);
  idle.notify();
  await waiting;
  expect(notified).toBe(true);
});
