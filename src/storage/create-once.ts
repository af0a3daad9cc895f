// Creating a table once per process: the first call starts it, later calls share it, and a failure is forgotten
// so that the next call tries again (storage may have been away).

export interface CreateOnce {
  (): Promise<void>;
  /** Forgets a success too: the table was deleted while the process ran. */
  reset(): void;
}

export function createOnce(create: () => Promise<unknown>): CreateOnce {
  let ready: Promise<void> | undefined;
  const ensure = (() => {
    ready ??= create().then(
      () => undefined,
      (error: unknown) => {
        ready = undefined;
        throw error;
      },
    );
    return ready;
  }) as CreateOnce;
  ensure.reset = () => {
    ready = undefined;
  };
  return ensure;
}
