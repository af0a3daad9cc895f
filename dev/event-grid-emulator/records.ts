// The accepted events, in arrival order, in memory: the newest `max` are kept (a dev topic must not grow without
// bound). In-process listeners hear each one as it is recorded; waitForEvents resolves once enough arrived.
import type { CloudEvent } from './batch';

/** An accepted event as received, plus when the emulator accepted it (ISO 8601). */
export interface CloudEventRecord extends CloudEvent {
  receivedAt: string;
}

interface Waiter {
  count: number;
  resolve: (events: CloudEventRecord[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class RecordedEvents {
  private readonly records: CloudEventRecord[] = [];
  private readonly listeners = new Set<(event: CloudEventRecord) => void>();
  private readonly waiters = new Set<Waiter>();
  private stopped = false;

  constructor(
    private readonly max: number,
    private readonly log: (line: string) => void,
  ) {}

  all(): CloudEventRecord[] {
    return [...this.records];
  }

  add(events: readonly CloudEvent[], receivedAt: Date): void {
    const stamp = receivedAt.toISOString();
    const added = events.map((event) => ({ ...event, receivedAt: stamp }));
    this.records.push(...added);
    if (this.records.length > this.max) this.records.splice(0, this.records.length - this.max);
    for (const record of added) {
      for (const listener of this.listeners) {
        try {
          listener(record);
        } catch (error) {
          // A listener's bug must not fail the publish that was already accepted.
          this.log(`an event listener threw: ${(error as Error).message}`);
        }
      }
    }
    for (const waiter of this.waiters) if (this.records.length >= waiter.count) this.settle(waiter);
  }

  subscribe(listener: (event: CloudEventRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every recorded event once at least `count` are recorded; rejects after `timeoutMs` or on stop. */
  waitFor(count: number, timeoutMs: number): Promise<CloudEventRecord[]> {
    if (this.records.length >= count) return Promise.resolve(this.all());
    if (this.stopped) return Promise.reject(new Error('The Event Grid emulator is stopped'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`Waited ${timeoutMs} ms for ${count} events; ${this.records.length} recorded`));
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.waiters.add(waiter);
    });
  }

  stop(): void {
    this.stopped = true;
    this.listeners.clear();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('The Event Grid emulator stopped before the events arrived'));
    }
    this.waiters.clear();
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.resolve(this.all());
  }
}
