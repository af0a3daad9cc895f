/**
 * What `promise` settled with (its error, or 'resolved'), or 'still waiting after <ms> ms': a call that hangs fails
 * its test with a readable value instead of holding the run until Jest's timeout.
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      new Promise((resolve) => (timer = setTimeout(() => resolve(`still waiting after ${ms} ms`), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
