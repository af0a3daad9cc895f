// Assignment takes time: DPS answers a register request with 202 + `retry-after` and assigns in the background
// (docs/dps-contract.md §4.3). The emulator marks the registration `assigning`, waits the assignment delay, then
// allocates; meanwhile polls answer 202 and the service API shows `assigning`. A delay of 0 allocates at once.
import type { RegistrationInput } from './provisioning';
import type { EmulatorStore, RegistrationRecord } from './store';

export type RunRegistration = (input: RegistrationInput, record: RegistrationRecord) => Promise<void>;

export interface AssignmentDelay {
  delayMs: number;
  store: EmulatorStore;
  /** The emulator's abortable sleep: stop() ends the wait, and the operation then fails as interrupted. */
  sleep: (ms: number) => Promise<void>;
}

/** `run`, preceded by the assignment delay with the registration `assigning`. */
export function withAssignmentDelay(run: RunRegistration, delay: AssignmentDelay): RunRegistration {
  if (delay.delayMs <= 0) return run;
  return async (input, record) => {
    // Saved at once (before the 202 is sent), so that the service API shows the registration in progress.
    record.status = 'assigning';
    record.errorCode = undefined;
    record.errorMessage = undefined;
    delay.store.saveRegistration(record);
    await delay.sleep(delay.delayMs);
    await run(input, record);
  };
}
