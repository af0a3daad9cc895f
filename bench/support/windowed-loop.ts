// A closed-loop load for a fixed time: at most `concurrency` tasks in flight, each started as soon as one finishes,
// until `windowMs` has passed; then the tasks still running are aborted (through the signal they were given) and
// not counted. The rate is what finished within the window, divided by the window.
import { setMaxListeners } from 'node:events';

export interface WindowedLoopResult {
  windowMs: number;
  concurrency: number;
  /** Tasks started, finished ones and the ones cut off at the end of the window. */
  started: number;
  /** Milliseconds per task that finished within the window, in finishing order. */
  latencyMs: number[];
  /** When each of those finished, ms after the window opened. */
  finishedAtMs: number[];
  /** Tasks that failed within the window, per error message. */
  errors: Map<string, number>;
  /** Tasks still running when the window closed (aborted). */
  cutOff: number;
}

export async function runForWindow(
  windowMs: number,
  concurrency: number,
  task: (index: number, signal: AbortSignal) => Promise<void>,
): Promise<WindowedLoopResult> {
  const abort = new AbortController();
  // Every task in flight listens to the one signal (its socket, its retry-after wait).
  setMaxListeners(4 * concurrency + 10, abort.signal);
  const latencyMs: number[] = [];
  const finishedAtMs: number[] = [];
  const errors = new Map<string, number>();
  let started = 0;
  let cutOff = 0;
  const opened = performance.now();
  const closesAt = opened + windowMs;
  const timer = setTimeout(() => abort.abort(new Error('the window closed')), windowMs);
  const worker = async (): Promise<void> => {
    while (performance.now() < closesAt && !abort.signal.aborted) {
      const index = started++;
      const taskStarted = performance.now();
      try {
        await task(index, abort.signal);
        const now = performance.now();
        if (now > closesAt) {
          cutOff++;
        } else {
          latencyMs.push(now - taskStarted);
          finishedAtMs.push(now - opened);
        }
      } catch (error) {
        if (abort.signal.aborted) {
          cutOff++;
        } else {
          const key = error instanceof Error ? error.message : String(error);
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearTimeout(timer);
  }
  return { windowMs, concurrency, started, latencyMs, finishedAtMs, errors, cutOff };
}
