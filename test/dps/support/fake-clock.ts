import type { Clock } from '../../../src/dps/clock';

/** A clock whose sleeps return at once and move time forward by the requested amount. */
export class FakeClock implements Clock {
  /** Every sleep requested, in order. */
  readonly sleeps: number[] = [];
  randomValue = 0.5;

  constructor(public time = Date.UTC(2026, 10, 23, 12, 0, 0)) {}

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += ms;
  }

  random(): number {
    return this.randomValue;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
