// Time limits for background work that must not hang on a peer that accepts a connection and never answers
// (the decision log's writer, the events publisher).

/**
 * Runs one attempt, abandoned after `timeoutMs` (its signal aborts then). Resolves to undefined when it
 * succeeded and to its error (a TimeoutError when the limit passed) otherwise; never rejects.
 */
export async function attemptWithin(
  timeoutMs: number,
  attempt: (signal: AbortSignal) => Promise<unknown>,
): Promise<unknown> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs} ms`);
      error.name = 'TimeoutError';
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([attempt(controller.signal), timedOut]);
    return undefined;
  } catch (error) {
    return error ?? new Error('the attempt failed');
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `work`, but not past `deadline` (epoch ms); the work goes on after. */
export async function waitUntil(work: Promise<void>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
  ]);
  clearTimeout(timer);
}
