// The scan's checkpoint and lease: one row (PartitionKey `state`, RowKey `checkpoint`), only ever written with
// If-Match on its etag. A run takes the lease when no other run holds an unexpired one, renews it with every
// checkpoint it saves, and stops writing when a save answers 412 (another run took over) or when its own lease is
// about to expire. So two overlapping runs never both write.
import { z } from 'zod';
import { isStorageStatus } from '../../storage/errors';
import { CHECKPOINT_ROW, STATE_PARTITION } from '../rows/tables';
import { type AuditStore } from '../store';

export const scanPhaseSchema = z.enum(['groups', 'individuals', 'done']);
export type ScanPhase = z.infer<typeof scanPhaseSchema>;

export const checkpointSchema = z.object({
  scanId: z.string(),
  /** Start of the scan's first run. */
  scanStartedAt: z.date(),
  /** `done`: the scan completed; the next run starts a new one. */
  phase: scanPhaseSchema,
  /** Key of the group being scanned (groups go in key order); absent before the first group. */
  groupKey: z.string().optional(),
  /** Token of the next page of that group's registrations, or of the individual enrollments. */
  continuationToken: z.string().optional(),
  /** Runs this scan has taken so far. */
  runs: z.number().int().min(0),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

const stateRowSchema = checkpointSchema.partial().extend({
  leaseOwner: z.string().optional(),
  leaseExpiresAt: z.date().optional(),
  etag: z.string(),
});

/** Another run took the lease, or this run's lease ran out: stop without writing more. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export type LeaseResult =
  | { acquired: true; lease: ScanLease; checkpoint: Checkpoint | undefined }
  | { acquired: false; holder: string; expiresAt: Date };

/** Writes stop this long before the lease expires, so a late write cannot meet the next holder's. */
const EXPIRY_SAFETY_MS = 5_000;

function checkpointOf(row: z.infer<typeof stateRowSchema>): Checkpoint | undefined {
  const parsed = checkpointSchema.safeParse(row);
  return parsed.success ? parsed.data : undefined;
}

function stateEntity(checkpoint: Checkpoint | undefined, leaseOwner?: string, leaseExpiresAt?: Date) {
  return {
    partitionKey: STATE_PARTITION,
    rowKey: CHECKPOINT_ROW,
    ...checkpoint,
    leaseOwner,
    leaseExpiresAt,
  };
}

export class ScanLease {
  private constructor(
    private readonly store: AuditStore,
    readonly owner: string,
    readonly expiresAt: Date,
    private etag: string,
    private readonly now: () => number,
  ) {}

  /**
   * Takes the lease until `expiresAt` unless another owner holds an unexpired one. A concurrent taker is told
   * apart by the etag: of two runs racing, one gets 412 (or 409 on the first create) and reports the other.
   */
  static async acquire(
    store: AuditStore,
    owner: string,
    expiresAt: Date,
    now: () => number,
  ): Promise<LeaseResult> {
    const client = store.client('state');
    let current: z.infer<typeof stateRowSchema> | undefined;
    try {
      const entity = await store.call('getEntity', 'state', () =>
        client.getEntity(STATE_PARTITION, CHECKPOINT_ROW),
      );
      const parsed = stateRowSchema.safeParse(entity);
      current = parsed.success ? parsed.data : { etag: String(entity.etag) };
    } catch (error) {
      if (!isStorageStatus(error, 404)) throw error;
    }
    const nowMs = now();
    if (current?.leaseOwner && current.leaseExpiresAt && current.leaseExpiresAt.getTime() > nowMs) {
      return { acquired: false, holder: current.leaseOwner, expiresAt: current.leaseExpiresAt };
    }
    const checkpoint = current && checkpointOf(current);
    const entity = stateEntity(checkpoint, owner, expiresAt);
    try {
      const response = current
        ? await store.call('updateEntity', 'state', () =>
            client.updateEntity(entity, 'Replace', { etag: current.etag }),
          )
        : await store.call('createEntity', 'state', () => client.createEntity(entity));
      const lease = new ScanLease(store, owner, expiresAt, String(response.etag), now);
      return { acquired: true, lease, checkpoint };
    } catch (error) {
      if (isStorageStatus(error, 412) || isStorageStatus(error, 409)) {
        return { acquired: false, holder: 'another run (it took the lease first)', expiresAt };
      }
      throw error;
    }
  }

  /** Throws LeaseLostError when the lease is about to expire: the caller must not write any more. */
  assertHeld(): void {
    if (this.now() > this.expiresAt.getTime() - EXPIRY_SAFETY_MS) {
      throw new LeaseLostError('The scan lease expired before the run finished; it stops writing.');
    }
  }

  /** Saves the checkpoint (If-Match); throws LeaseLostError when another run has written since. */
  async save(checkpoint: Checkpoint): Promise<void> {
    this.assertHeld();
    await this.replace(stateEntity(checkpoint, this.owner, this.expiresAt));
  }

  /** Saves the checkpoint and gives the lease up, so the next run need not wait for it to expire. */
  async release(checkpoint: Checkpoint | undefined): Promise<void> {
    await this.replace(stateEntity(checkpoint));
  }

  private async replace(entity: ReturnType<typeof stateEntity>): Promise<void> {
    const client = this.store.client('state');
    try {
      const response = await this.store.call('updateEntity', 'state', () =>
        client.updateEntity(entity, 'Replace', { etag: this.etag }),
      );
      this.etag = String(response.etag);
    } catch (error) {
      if (isStorageStatus(error, 412)) {
        throw new LeaseLostError('Another audit run took the scan lease; this run stops writing.', {
          cause: error,
        });
      }
      throw error;
    }
  }
}
