// configureEnrollments over an in-memory store: what it reads and writes, and how it reacts to 412 and 401.
import { configureEnrollments, type ConfigureRequest } from '../../../src/cli/configure/apply';
import type { EnrollmentStore } from '../../../src/cli/configure/enrollment-store';
import type { Enrollment, EnrollmentTarget } from '../../../src/cli/configure/plan';
import { DpsPreconditionFailedError, DpsUnauthorizedError } from '../../../src/dps/errors';
import type { AttestationMechanism, EnrollmentGroup } from '../../../src/dps/schemas';

const KEY = 'fn-key-for-apply-tests';
const GROUP_KEYS = {
  primaryKey: Buffer.alloc(64, 7).toString('base64'),
  secondaryKey: Buffer.alloc(64, 8).toString('base64'),
};

class MemoryStore implements EnrollmentStore {
  groups = new Map<string, { value: EnrollmentGroup; sequence: number }>();
  calls: string[] = [];
  /** Errors thrown by the next put calls, in order. */
  putErrors: Error[] = [];
  getErrors: Error[] = [];

  async get(target: EnrollmentTarget): Promise<Enrollment | undefined> {
    this.calls.push(`get ${target.id}`);
    const error = this.getErrors.shift();
    if (error) throw error;
    const stored = this.groups.get(target.id);
    if (!stored) return undefined;
    const { symmetricKey: _keys, ...attestation } = stored.value.attestation;
    return { ...structuredClone(stored.value), attestation, etag: `"${stored.sequence}"` };
  }

  async readAttestation(target: EnrollmentTarget): Promise<AttestationMechanism> {
    this.calls.push(`attestation ${target.id}`);
    return structuredClone(this.groups.get(target.id)!.value.attestation);
  }

  async put(
    target: EnrollmentTarget,
    enrollment: Enrollment,
    ifMatch: string | undefined,
  ): Promise<Enrollment> {
    this.calls.push(`put ${target.id} if-match ${ifMatch ?? '-'}`);
    const error = this.putErrors.shift();
    if (error) throw error;
    const stored = this.groups.get(target.id);
    if (ifMatch !== undefined && (!stored || `"${stored.sequence}"` !== ifMatch)) {
      throw new DpsPreconditionFailedError('412', { operation: 'put', status: 412 });
    }
    const sequence = (stored?.sequence ?? 0) + 1;
    const { etag: _etag, ...value } = enrollment as EnrollmentGroup;
    this.groups.set(target.id, { value, sequence });
    return { ...value, etag: `"${sequence}"` };
  }

  seed(id: string): void {
    this.groups.set(id, {
      value: {
        enrollmentGroupId: id,
        attestation: { type: 'symmetricKey', symmetricKey: GROUP_KEYS },
        allocationPolicy: 'hashed',
      },
      sequence: 1,
    });
  }
}

function request(targets: string[], overrides: Partial<ConfigureRequest> = {}): ConfigureRequest {
  return {
    targets: targets.map((id) => ({ kind: 'enrollmentGroup', id })),
    allocation: {
      webhookUrl: `https://app.azurewebsites.net/api/allocate?code=${KEY}`,
      apiVersion: '2021-10-01',
    },
    dryRun: false,
    ...overrides,
  };
}

describe('configureEnrollments', () => {
  it('sends the symmetric keys back on update, read after the GET', async () => {
    const store = new MemoryStore();
    store.seed('g1');
    const [outcome] = await configureEnrollments(store, request(['g1']));

    expect(outcome).toMatchObject({ status: 'updated', etag: '"2"', conflicts: 0 });
    expect(store.calls).toEqual(['get g1', 'attestation g1', 'put g1 if-match "1"']);
    expect(store.groups.get('g1')!.value.attestation.symmetricKey).toEqual(GROUP_KEYS);
  });

  it('reads nothing secret and writes nothing in a dry run or when unchanged', async () => {
    const store = new MemoryStore();
    store.seed('g1');
    const [dry] = await configureEnrollments(store, request(['g1'], { dryRun: true }));
    expect(dry).toMatchObject({ status: 'updated', dryRun: true });
    expect(dry!.etag).toBeUndefined();
    expect(store.calls).toEqual(['get g1']);

    await configureEnrollments(store, request(['g1']));
    store.calls = [];
    const [again] = await configureEnrollments(store, request(['g1']));
    expect(again).toMatchObject({ status: 'unchanged', changes: [] });
    expect(store.calls).toEqual(['get g1']);
  });

  it('re-reads after a 412 and gives up after the allowed number of conflicts', async () => {
    const store = new MemoryStore();
    store.seed('g1');
    const conflict = () => new DpsPreconditionFailedError('412', { operation: 'put', status: 412 });
    store.putErrors = [conflict(), conflict(), conflict()];
    const notes: string[] = [];

    const [failed] = await configureEnrollments(store, request(['g1']), {
      maxConflictRetries: 2,
      onNote: (note) => notes.push(note),
    });
    expect(failed!.status).toBe('failed');
    expect(failed!.error).toMatch(/kept changing.*412 Precondition Failed 3 times/);
    expect(store.calls.filter((call) => call.startsWith('get'))).toHaveLength(3);
    expect(notes).toHaveLength(2);
    expect(store.groups.get('g1')!.value.allocationPolicy).toBe('hashed');

    expect(store.putErrors).toHaveLength(0);
    store.putErrors = [conflict()];
    const [updated] = await configureEnrollments(store, request(['g1']));
    expect(updated).toMatchObject({ status: 'updated', conflicts: 1 });
  });

  it('waits and retries after 401 when asked to (Entra role propagation)', async () => {
    const store = new MemoryStore();
    store.seed('g1');
    store.getErrors = [new DpsUnauthorizedError('401', { operation: 'get', status: 401 })];
    const sleeps: number[] = [];
    const [outcome] = await configureEnrollments(store, request(['g1']), {
      authRetryDelaysMs: [25],
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(outcome!.status).toBe('updated');
    expect(sleeps).toEqual([25]);
  });

  it('reports a 401 without retry delays as a failure with a hint about roles', async () => {
    const store = new MemoryStore();
    store.seed('g1');
    store.getErrors = [
      new DpsUnauthorizedError('DPS getEnrollmentGroup failed (HTTP 401)', { operation: 'get', status: 401 }),
    ];
    const [outcome] = await configureEnrollments(store, request(['g1']));
    expect(outcome!.error).toMatch(/HTTP 401.*Device Provisioning Service Data Contributor/);
  });

  it('does not wait when no token could be had at all, and says how to sign in', async () => {
    const store = new MemoryStore();
    store.seed('g1');
    const noToken = `DPS getEnrollmentGroup: no access token (DefaultAzureCredential failed\n${'x'.repeat(2000)})`;
    store.getErrors = [new DpsUnauthorizedError(noToken, { operation: 'get' })];
    const sleeps: number[] = [];
    const [outcome] = await configureEnrollments(store, request(['g1']), {
      authRetryDelaysMs: [25],
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(sleeps).toEqual([]);
    expect(outcome!.error).toMatch(
      /^DPS getEnrollmentGroup: no access token \(DefaultAzureCredential failed x+\.\.\. Sign in/,
    );
    expect(outcome!.error!.length).toBeLessThan(700);
  });

  it('goes on with the other enrollments after one fails', async () => {
    const store = new MemoryStore();
    store.seed('g2');
    const outcomes = await configureEnrollments(store, request(['missing', 'g2']));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'updated']);
    expect(outcomes[0]!.error).toMatch(/does not exist; add --create/);
  });

  it('lets unexpected errors through', async () => {
    const store = new MemoryStore();
    store.getErrors = [new TypeError('a bug')];
    await expect(configureEnrollments(store, request(['g1']))).rejects.toThrow('a bug');
  });
});
