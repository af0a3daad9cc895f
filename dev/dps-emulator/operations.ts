// Registration operations in flight and recently finished: the device polls
// `GET .../operations/{operationId}` until the operation has a final answer. Bounded, oldest dropped first.
import { newOperationId } from './ids';

export interface Operation {
  readonly id: string;
  readonly registrationKey: string;
  /** The final RegistrationOperationStatus body, once the registration has finished. */
  result: Record<string, unknown> | undefined;
}

export class OperationTracker {
  private readonly operations = new Map<string, Operation>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly maxOperations: number) {}

  /** Registers an operation whose work is `run(operation)`; returns it at once. */
  start(registrationKey: string, run: (operation: Operation) => Promise<void>): Operation {
    const operation: Operation = { id: newOperationId(), registrationKey, result: undefined };
    this.operations.set(operation.id, operation);
    while (this.operations.size > this.maxOperations) {
      const oldest = this.operations.keys().next().value;
      if (oldest === undefined) break;
      this.operations.delete(oldest);
    }
    // `run` records its own failures; the catch only keeps a bug there from becoming an unhandled rejection.
    const work: Promise<void> = run(operation)
      .catch(() => undefined)
      .finally(() => this.running.delete(work));
    this.running.add(work);
    return operation;
  }

  get(operationId: string): Operation | undefined {
    return this.operations.get(operationId);
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Resolves when every running operation has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
