import { ConfigureError } from '../../../src/cli/configure/errors';
import {
  planEnrollment,
  type CustomAllocation,
  type EnrollmentTarget,
} from '../../../src/cli/configure/plan';
import type { EnrollmentGroup, IndividualEnrollment } from '../../../src/dps/schemas';

const KEY = 'the-function-key-0123456789';
const WANTED: CustomAllocation = {
  webhookUrl: `https://my-app.azurewebsites.net/api/allocate?code=${KEY}`,
  apiVersion: '2021-10-01',
};
const GROUP: EnrollmentTarget = { kind: 'enrollmentGroup', id: 'group-a' };
const DEVICE: EnrollmentTarget = { kind: 'individualEnrollment', id: 'device-1' };

function existingGroup(): EnrollmentGroup {
  return {
    enrollmentGroupId: 'group-a',
    attestation: { type: 'symmetricKey' },
    capabilities: { iotEdge: true },
    initialTwin: { tags: { site: 'north' }, properties: { desired: { mode: 'eco' } } },
    etag: '"etag-1"',
    provisioningStatus: 'disabled',
    reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true },
    createdDateTimeUtc: '2026-01-01T00:00:00Z',
    lastUpdatedDateTimeUtc: '2026-01-02T00:00:00Z',
    allocationPolicy: 'hashed',
    iotHubs: ['hub-1.azure-devices.net', 'hub-2.azure-devices.net'],
    // A field this project does not model: kept as is.
    credentialPolicyName: 'default',
  };
}

describe('planEnrollment on an existing enrollment', () => {
  it('changes only allocationPolicy and customAllocationDefinition, and drops the read-only dates', () => {
    const current = existingGroup();
    const plan = planEnrollment(GROUP, current, WANTED);

    expect(plan.action).toBe('update');
    expect(plan.etag).toBe('"etag-1"');
    const { allocationPolicy, customAllocationDefinition, ...rest } = plan.enrollment as EnrollmentGroup;
    expect(allocationPolicy).toBe('custom');
    expect(customAllocationDefinition).toEqual(WANTED);
    const {
      allocationPolicy: _p,
      createdDateTimeUtc: _c,
      lastUpdatedDateTimeUtc: _l,
      ...unchanged
    } = current;
    expect(rest).toEqual(unchanged);
    expect(current.allocationPolicy).toBe('hashed'); // the input is not modified
  });

  it('lists the changed fields with the key masked', () => {
    const plan = planEnrollment(GROUP, existingGroup(), WANTED);
    expect(plan.changes).toEqual([
      { field: 'allocationPolicy', before: 'hashed', after: 'custom' },
      {
        field: 'customAllocationDefinition.webhookUrl',
        before: undefined,
        after: 'https://my-app.azurewebsites.net/api/allocate?code=***',
      },
      { field: 'customAllocationDefinition.apiVersion', before: undefined, after: '2021-10-01' },
    ]);
    expect(JSON.stringify(plan.changes)).not.toContain(KEY);
  });

  it('is unchanged when the enrollment already points at the same URL and api version', () => {
    const current = {
      ...existingGroup(),
      allocationPolicy: 'custom' as const,
      customAllocationDefinition: { ...WANTED, webhookUrl: WANTED.webhookUrl.replace('my-app', 'MY-APP') },
    };
    const plan = planEnrollment(GROUP, current, WANTED);
    expect(plan).toMatchObject({ action: 'unchanged', enrollment: undefined, changes: [] });
  });

  it('notes a new function key even though both masked URLs read the same', () => {
    const current = {
      ...existingGroup(),
      allocationPolicy: 'custom' as const,
      customAllocationDefinition: { webhookUrl: `${WANTED.webhookUrl}-old`, apiVersion: '2019-03-31' },
    };
    const plan = planEnrollment(GROUP, current, WANTED);
    expect(plan.changes).toEqual([
      {
        field: 'customAllocationDefinition.webhookUrl',
        before: 'https://my-app.azurewebsites.net/api/allocate?code=***',
        after: 'https://my-app.azurewebsites.net/api/allocate?code=***',
        note: 'the function key differs',
      },
      { field: 'customAllocationDefinition.apiVersion', before: '2019-03-31', after: '2021-10-01' },
    ]);
    expect(JSON.stringify(plan.changes)).not.toContain('-old');
  });

  it('drops the read-only registrationState of an individual enrollment and keeps the rest', () => {
    const current: IndividualEnrollment = {
      registrationId: 'device-1',
      deviceId: 'device-1-id',
      attestation: { type: 'tpm', tpm: { endorsementKey: 'ek' } },
      registrationState: { registrationId: 'device-1', status: 'assigned' },
      optionalDeviceInformation: { model: 'x' },
      etag: '"e"',
    };
    const plan = planEnrollment(DEVICE, current, WANTED);
    expect(plan.enrollment).toEqual({
      registrationId: 'device-1',
      deviceId: 'device-1-id',
      attestation: { type: 'tpm', tpm: { endorsementKey: 'ek' } },
      optionalDeviceInformation: { model: 'x' },
      etag: '"e"',
      allocationPolicy: 'custom',
      customAllocationDefinition: WANTED,
    });
  });

  it('refuses an answer for another enrollment', () => {
    expect(() => planEnrollment(GROUP, { ...existingGroup(), enrollmentGroupId: 'other' }, WANTED)).toThrow(
      ConfigureError,
    );
  });
});

describe('planEnrollment on a missing enrollment', () => {
  it('is an error that suggests --create without a create spec', () => {
    expect(() => planEnrollment(GROUP, undefined, WANTED)).toThrow(/--create/);
  });

  it.each([
    ['migrate', { updateHubAssignment: true, migrateDeviceData: true }],
    ['reset', { updateHubAssignment: true, migrateDeviceData: false }],
    ['never', { updateHubAssignment: false, migrateDeviceData: true }],
  ] as const)('creates a symmetric-key group with reprovision policy %s', (choice, policy) => {
    const plan = planEnrollment(GROUP, undefined, WANTED, {
      attestation: 'symmetricKey',
      iotHubs: ['hub-1.azure-devices.net'],
      iotEdge: true,
      reprovision: choice,
    });
    expect(plan.action).toBe('create');
    expect(plan.etag).toBeUndefined();
    expect(plan.enrollment).toEqual({
      enrollmentGroupId: 'group-a',
      attestation: { type: 'symmetricKey', symmetricKey: {} },
      capabilities: { iotEdge: true },
      provisioningStatus: 'enabled',
      allocationPolicy: 'custom',
      customAllocationDefinition: WANTED,
      iotHubs: ['hub-1.azure-devices.net'],
      reprovisionPolicy: policy,
    });
  });

  it('creates an individual enrollment with the keys given, and never shows them', () => {
    const primaryKey = Buffer.alloc(32, 1).toString('base64');
    const secondaryKey = Buffer.alloc(32, 2).toString('base64');
    const plan = planEnrollment(DEVICE, undefined, WANTED, {
      attestation: 'symmetricKey',
      primaryKey,
      secondaryKey,
    });
    expect(plan.enrollment).toMatchObject({
      registrationId: 'device-1',
      attestation: { type: 'symmetricKey', symmetricKey: { primaryKey, secondaryKey } },
      capabilities: { iotEdge: false },
    });
    expect(plan.enrollment).not.toHaveProperty('iotHubs');
    const shown = JSON.stringify(plan.changes);
    expect(shown).toContain('symmetricKey (keys given)');
    expect(shown).toContain('every hub linked');
    for (const secret of [primaryKey, secondaryKey, KEY]) expect(shown).not.toContain(secret);
  });
});
