// Bulk enrollment operations: the official service SDK's runBulkEnrollmentOperation (individual enrollments,
// `POST /enrollments/`), and raw calls for enrollment groups, the limit and bad bodies.
import type { Dispatcher } from 'undici';
import type { BulkEnrollmentOperationResult } from 'azure-iot-provisioning-service/dist/interfaces';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { createSdkServiceClient } from '../../../dev/dps-emulator/sdk-clients';
import {
  emulatorDispatcher,
  ownerAuthorization,
  rawCall,
  startTestEmulator,
  testKey,
} from './support/emulator';

let emulator: DpsEmulator;
let dispatcher: Dispatcher;

beforeAll(async () => {
  emulator = await startTestEmulator();
  dispatcher = emulatorDispatcher(emulator);
});

afterAll(async () => {
  await dispatcher.close();
  await emulator.stop();
});

const individual = (registrationId: string, extra: Record<string, unknown> = {}) => ({
  registrationId,
  attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey(registrationId) } },
  ...extra,
});

/** runBulkEnrollmentOperation in its callback form (its promise form never settles in 1.11). */
function bulkWithSdk(mode: string, enrollments: unknown[]): Promise<BulkEnrollmentOperationResult> {
  const client = createSdkServiceClient(emulator, emulator.sdkServiceConnectionString);
  return new Promise((resolve, reject) => {
    client.runBulkEnrollmentOperation({ mode, enrollments } as never, (error, result) =>
      error ? reject(error) : resolve(result as BulkEnrollmentOperationResult),
    );
  });
}

function rawBulk(path: string, body: unknown) {
  return rawCall(emulator, dispatcher, 'POST', `${path}?api-version=2021-10-01`, {
    headers: { authorization: ownerAuthorization(emulator), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('bulk operations on individual enrollments through the official SDK', () => {
  it('creates, refuses a duplicate create, updates with and without the etag, and deletes', async () => {
    expect(await bulkWithSdk('create', [individual('bulk-1'), individual('bulk-2')])).toEqual({
      isSuccessful: true,
      errors: [],
    });
    expect(emulator.store.getIndividual('bulk-2')).toBeDefined();

    const again = await bulkWithSdk('create', [individual('bulk-1'), individual('bulk-3')]);
    expect(again).toEqual({
      isSuccessful: false,
      errors: [
        { registrationId: 'bulk-1', errorCode: 409001, errorStatus: expect.stringMatching(/already exists/) },
      ],
    });
    expect(emulator.store.getIndividual('bulk-3')).toBeDefined(); // the others are applied

    expect(
      await bulkWithSdk('update', [individual('bulk-1', { provisioningStatus: 'disabled' })]),
    ).toMatchObject({
      isSuccessful: true,
    });
    expect(emulator.store.getIndividual('bulk-1')?.value.provisioningStatus).toBe('disabled');

    const stale = await bulkWithSdk('updateIfMatchETag', [
      individual('bulk-2', { etag: '"00000000-0000-0000-0000-000000000000"' }),
    ]);
    expect(stale).toMatchObject({
      isSuccessful: false,
      errors: [{ registrationId: 'bulk-2', errorCode: 412002 }],
    });

    expect(
      await bulkWithSdk('delete', [individual('bulk-1'), individual('bulk-2'), individual('bulk-3')]),
    ).toEqual({
      isSuccessful: true,
      errors: [],
    });
    expect(emulator.store.getIndividual('bulk-1')).toBeUndefined();
  });
});

describe('bulk operations, raw', () => {
  it('works on enrollment groups, with or without a trailing slash', async () => {
    const groups = ['bulk-group-a', 'bulk-group-b'].map((enrollmentGroupId) => ({
      enrollmentGroupId,
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey(enrollmentGroupId) } },
    }));
    const created = await rawBulk('/enrollmentGroups', { mode: 'create', enrollmentGroups: groups });
    expect(created).toMatchObject({ status: 200, json: { isSuccessful: true, errors: [] } });
    const deleted = await rawBulk('/enrollmentGroups/', { mode: 'delete', enrollmentGroups: groups });
    expect(deleted).toMatchObject({ status: 200, json: { isSuccessful: true, errors: [] } });
    expect(emulator.store.getGroup('bulk-group-a')).toBeUndefined();
  });

  it('reports an invalid item by its id and applies the rest', async () => {
    const answer = await rawBulk('/enrollments', {
      mode: 'create',
      enrollments: [individual('bulk-ok'), individual('bad-id-')],
    });
    expect(answer).toMatchObject({
      status: 200,
      json: { isSuccessful: false, errors: [{ registrationId: 'bad-id-', errorCode: 400004 }] },
    });
    expect(emulator.store.getIndividual('bulk-ok')).toBeDefined();
  });

  it.each([
    [
      'more than 10 enrollments',
      { mode: 'create', enrollments: Array.from({ length: 11 }, (_, i) => individual(`many-${i}`)) },
      /1 to 10/,
    ],
    ['none', { mode: 'create', enrollments: [] }, /1 to 10/],
    ['an unknown mode', { mode: 'upsert', enrollments: [individual('x')] }, /"mode"/],
    ['the wrong list', { mode: 'create', enrollmentGroups: [] }, /"enrollments"/],
  ])('refuses %s with a 400 that says why, and writes nothing', async (_what, body, message) => {
    const answer = await rawBulk('/enrollments', body);
    expect(answer.status).toBe(400);
    expect((answer.json as { message: string }).message).toMatch(message);
    expect(emulator.store.getIndividual('many-0')).toBeUndefined();
  });
});
