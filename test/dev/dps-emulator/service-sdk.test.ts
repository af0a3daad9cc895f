// The official service SDK (azure-iot-provisioning-service) against the emulator: enrollment CRUD with
// etags, registration state paging, bad keys, the read-only policy, and the DPS error body.
import type { IndividualEnrollment, InitialTwin } from 'azure-iot-provisioning-service/dist/interfaces';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { createSdkServiceClient, registerWithSdk } from '../../../dev/dps-emulator/sdk-clients';
import { HUB_A, HUB_B, startTestEmulator, testKey } from './support/emulator';

let emulator: DpsEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterAll(async () => {
  await emulator.stop();
});

const owner = () => createSdkServiceClient(emulator, emulator.sdkServiceConnectionString);
const readOnly = () => createSdkServiceClient(emulator, emulator.sdkReadOnlyConnectionString);

interface SdkError {
  name: string;
  response?: { statusCode: number; headers: Record<string, string> };
  responseBody?: string;
}

async function sdkError(promise: Promise<unknown>): Promise<SdkError> {
  return promise.then(
    () => {
      throw new Error('the call should have failed');
    },
    (error: unknown) => error as SdkError,
  );
}

describe('enrollment groups through the official service SDK', () => {
  it('creates, reads, updates with an etag and deletes a group', async () => {
    const client = owner();
    const created = await client.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'sdk-group',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: testKey('sdk'), secondaryKey: testKey('sdk2') },
      },
      provisioningStatus: 'enabled',
      allocationPolicy: 'hashed',
      iotHubs: [HUB_A],
      reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
      capabilities: { iotEdge: false },
      // The SDK types TwinCollection with mandatory version/count/metadata; DPS does not need them.
      initialTwin: { tags: { site: 'a' }, properties: { desired: {} } } as unknown as InitialTwin,
    });
    expect(created.httpResponse.statusCode).toBe(200);
    const firstEtag = created.responseBody.etag!;
    expect(firstEtag).toMatch(/^".+"$/);

    const read = await client.getEnrollmentGroup('SDK-GROUP');
    expect(read.responseBody).toMatchObject({
      enrollmentGroupId: 'sdk-group',
      etag: firstEtag,
      iotHubs: [HUB_A],
      attestation: { type: 'symmetricKey' },
    });
    // Keys are read with POST .../attestationmechanism, not returned by GET.
    expect(JSON.stringify(read.responseBody)).not.toContain(testKey('sdk'));
    const attestation = await client.getEnrollmentGroupAttestationMechanism('sdk-group');
    expect(attestation.responseBody.symmetricKey?.primaryKey).toBe(testKey('sdk'));

    const updated = await client.createOrUpdateEnrollmentGroup({
      ...read.responseBody,
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: testKey('sdk'), secondaryKey: testKey('sdk2') },
      },
      iotHubs: [HUB_A, HUB_B],
    });
    expect(updated.responseBody.iotHubs).toEqual([HUB_A, HUB_B]);
    expect(updated.responseBody.etag).not.toBe(firstEtag);

    // The stale etag is refused with 412.
    const stale = await sdkError(
      client.createOrUpdateEnrollmentGroup({ ...read.responseBody, etag: firstEtag, iotHubs: [HUB_B] }),
    );
    expect(stale.name).toBe('InvalidEtagError');
    expect(stale.response?.statusCode).toBe(412);
    expect((await sdkError(client.deleteEnrollmentGroup('sdk-group', firstEtag))).response?.statusCode).toBe(
      412,
    );

    await client.deleteEnrollmentGroup('sdk-group', updated.responseBody.etag!);
    expect((await sdkError(client.getEnrollmentGroup('sdk-group'))).response?.statusCode).toBe(404);
  });

  it('answers an unknown group with 404 and the documented error body', async () => {
    const error = await sdkError(owner().getEnrollmentGroup('no-such-group'));
    expect(error.response?.statusCode).toBe(404);
    const body = JSON.parse(error.responseBody!) as Record<string, unknown>;
    expect(body).toEqual({
      errorCode: 404201,
      trackingId: expect.any(String),
      message: "Enrollment group 'no-such-group' not found",
      timestampUtc: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(body.timestampUtc as string))).toBe(false);
    expect(error.response?.headers['x-ms-error-code']).toBe('404201');
  });

  it('rejects a custom group without a CustomAllocationDefinition with 400004', async () => {
    const error = await sdkError(
      owner().createOrUpdateEnrollmentGroup({
        enrollmentGroupId: 'custom-without-webhook',
        attestation: { type: 'symmetricKey' },
        provisioningStatus: 'enabled',
        allocationPolicy: 'custom',
      }),
    );
    expect(error.response?.statusCode).toBe(400);
    expect(JSON.parse(error.responseBody!)).toMatchObject({
      errorCode: 400004,
      message: "A CustomAllocationDefinition is required when the allocation policy is set to 'Custom'",
    });
  });

  it('lists groups in pages', async () => {
    for (const id of ['list-1', 'list-2', 'list-3']) {
      emulator.createEnrollmentGroup({ enrollmentGroupId: id, attestation: { type: 'symmetricKey' } });
    }
    const query = owner().createEnrollmentGroupQuery({ query: '*' }, 2);
    const ids: string[] = [];
    do {
      const page = await query.next(query.continuationToken);
      ids.push(
        ...(page.responseBody as unknown as Array<{ enrollmentGroupId: string }>).map(
          (g) => g.enrollmentGroupId,
        ),
      );
    } while (query.hasMoreResults);
    expect(ids.filter((id) => id.startsWith('list-'))).toEqual(['list-1', 'list-2', 'list-3']);
  });
});

describe('individual enrollments through the official service SDK', () => {
  it('creates, reads, updates and deletes an individual enrollment', async () => {
    const client = owner();
    // The SDK types the server-managed fields (etag, dates, registrationState) as required.
    const created = await client.createOrUpdateIndividualEnrollment({
      registrationId: 'sdk-individual',
      deviceId: 'sdk-individual-device',
      attestation: { type: 'symmetricKey' },
      provisioningStatus: 'enabled',
      allocationPolicy: 'static',
      iotHubs: [HUB_B],
    } as IndividualEnrollment);
    const key = created.responseBody.attestation.symmetricKey?.primaryKey;
    expect(key).toEqual(expect.any(String));
    const state = await registerWithSdk(emulator, 'sdk-individual', key!);
    expect(state.assignedHub).toBe(HUB_B);

    const read = await client.getIndividualEnrollment('sdk-individual');
    expect(read.responseBody).toMatchObject({
      registrationId: 'sdk-individual',
      deviceId: 'sdk-individual-device',
      registrationState: { status: 'assigned', assignedHub: HUB_B },
    });
    const stale = read.responseBody.etag!;
    const updated = await client.createOrUpdateIndividualEnrollment({
      ...read.responseBody,
      provisioningStatus: 'disabled',
    });
    expect(updated.responseBody.provisioningStatus).toBe('disabled');
    expect(
      (await sdkError(client.deleteIndividualEnrollment('sdk-individual', stale))).response?.statusCode,
    ).toBe(412);

    const enrollments = client.createIndividualEnrollmentQuery({ query: 'SELECT * FROM enrollments' });
    const page = await enrollments.next();
    expect(
      (page.responseBody as unknown as Array<{ registrationId: string }>).map((e) => e.registrationId),
    ).toContain('sdk-individual');

    await client.deleteIndividualEnrollment('sdk-individual');
    expect((await sdkError(client.getIndividualEnrollment('sdk-individual'))).response?.statusCode).toBe(404);
    expect((await sdkError(client.getDeviceRegistrationState('sdk-individual'))).response?.statusCode).toBe(
      404,
    );
  });
});

describe('registration states through the official service SDK', () => {
  it('pages through a group in registration id order, and reads and deletes one state', async () => {
    emulator.seed({ groupIds: ['paged-group'], perGroup: { assigned: 40, failed: 7, unassigned: 3 } });
    const client = owner();
    const query = client.createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, 'paged-group', 15);
    const seen: Array<{ registrationId: string; status: string; errorCode?: number }> = [];
    let pages = 0;
    do {
      // The SDK's paging bug: next() without the token repeats page 1 (docs/dps-contract.md §7.1).
      const page = await query.next(query.continuationToken);
      pages += 1;
      seen.push(...(page.responseBody as unknown as typeof seen));
    } while (query.hasMoreResults);
    expect(pages).toBe(4);
    expect(seen).toHaveLength(50);
    const ids = seen.map((s) => s.registrationId);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(50);
    expect(
      seen.filter((s) => s.status === 'failed').every((s) => [400207, 400208, 400209].includes(s.errorCode!)),
    ).toBe(true);

    const one = await client.getDeviceRegistrationState(ids[0]!);
    expect(one.responseBody.registrationId).toBe(ids[0]);
    await client.deleteDeviceRegistrationState(ids[0]!, one.responseBody.etag!);
    expect((await sdkError(client.getDeviceRegistrationState(ids[0]!))).response?.statusCode).toBe(404);
    expect(emulator.store.groupRegistrationCount('paged-group')).toBe(49);
  });
});

describe('service authorization', () => {
  it('refuses a connection string with a wrong key with 401', async () => {
    const wrong = emulator.sdkServiceConnectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${testKey('bad')}`,
    );
    const error = await sdkError(createSdkServiceClient(emulator, wrong).getEnrollmentGroup('any'));
    expect(error.name).toBe('UnauthorizedError');
    expect(JSON.parse(error.responseBody!)).toMatchObject({ errorCode: 401002 });
  });

  it('lets the read-only policy read but refuses its writes with 401', async () => {
    emulator.createEnrollmentGroup({
      enrollmentGroupId: 'read-only-target',
      attestation: { type: 'symmetricKey' },
    });
    const client = readOnly();
    const group = await client.getEnrollmentGroup('read-only-target');
    expect(group.responseBody.enrollmentGroupId).toBe('read-only-target');
    const states = await client
      .createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, 'read-only-target')
      .next();
    expect(states.httpResponse.statusCode).toBe(200);

    const write = await sdkError(
      client.createOrUpdateEnrollmentGroup({ ...group.responseBody, iotHubs: [HUB_A] }),
    );
    expect(write.response?.statusCode).toBe(401);
    expect(JSON.parse(write.responseBody!).message).toContain('EnrollmentWrite');
    expect((await sdkError(client.deleteEnrollmentGroup('read-only-target'))).response?.statusCode).toBe(401);
    expect(
      (await sdkError(client.getEnrollmentGroupAttestationMechanism('read-only-target'))).response
        ?.statusCode,
    ).toBe(401);
    expect((await owner().getEnrollmentGroup('read-only-target')).responseBody.iotHubs).toBeUndefined();
  });
});
