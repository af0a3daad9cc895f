// Promises that resolve when a background queue has nothing queued or in flight (flush, shutdown, tests).

export class IdleWaiters {
  private waiters: (() => void)[] = [];

  /** Resolves at the next notify(), or after `timeoutMs` when given; never rejects. */
  wait(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      if (timeoutMs === undefined) {
        this.waiters.push(resolve);
        return;
      }
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      }, timeoutMs);
      timer.unref();
      this.waiters.push(done);
    });
  }

  /** Resolves every waiting promise. */
  notify(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
