// A closed-loop load: `count` tasks, at most `concurrency` in flight, each started as soon as one finishes.
// The rate is then what the system sustains at that concurrency, and each task's latency is its own duration.

export interface ClosedLoopResult {
  count: number;
  concurrency: number;
  /** Milliseconds per task, in start order; NaN for tasks that failed. */
  latencyMs: Float64Array;
  /** Failed tasks per error message. */
  errors: Map<string, number>;
  elapsedMs: number;
}

export async function runClosedLoop(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<ClosedLoopResult> {
  const latencyMs = new Float64Array(count).fill(Number.NaN);
  const errors = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const started = performance.now();
      try {
        await task(index);
        latencyMs[index] = performance.now() - started;
      } catch (error) {
        const key = error instanceof Error ? error.message : String(error);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { count, concurrency, latencyMs, errors, elapsedMs: performance.now() - started };
}

export function failures(result: ClosedLoopResult): number {
  return [...result.errors.values()].reduce((sum, n) => sum + n, 0);
}

/** "3 x HTTP 500, 1 x ECONNRESET" (the most frequent first), or '' when nothing failed. */
export function describeErrors(result: ClosedLoopResult, limit = 4): string {
  return [...result.errors]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([message, n]) => `${n} x ${message}`)
    .join(', ');
}
