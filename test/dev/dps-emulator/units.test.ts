// Pure parts of the emulator: the sorted key set and its tokens, DPS's allocation rules, the webhook
// request/answer mapping, and the id rule.
import fc from 'fast-check';
import type { EnrollmentGroup } from '../../../src/dps/schemas';
import {
  assignmentSubstatus,
  hashedHub,
  initialTwinApplies,
  staticHub,
  webhookLinkedHubs,
} from '../../../dev/dps-emulator/allocation';
import {
  buildAllocationRequest,
  interpretSuccessBody,
  maskWebhookUrl,
} from '../../../dev/dps-emulator/custom-webhook';
import { isValidId } from '../../../dev/dps-emulator/ids';
import {
  SortedKeySet,
  decodeContinuationToken,
  encodeContinuationToken,
} from '../../../dev/dps-emulator/sorted-keys';

describe('SortedKeySet', () => {
  it('pages every key exactly once, in order, whatever the insertion order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 80 }),
        fc.integer({ min: 1, max: 9 }),
        (keys, size) => {
          const set = new SortedKeySet();
          keys.slice(0, keys.length / 2).forEach((key) => set.add(key));
          set.addMany(keys.slice(keys.length / 2));
          const expected = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = set.page(after, size);
            seen.push(...page.keys);
            if (!page.hasMore) break;
            after = page.keys.at(-1);
          }
          expect(seen).toEqual(expected);
          expect(set.size).toBe(expected.length);
        },
      ),
    );
  });

  it('deletes and reports membership', () => {
    const set = new SortedKeySet();
    ['b', 'a', 'c'].forEach((key) => set.add(key));
    expect(set.add('a')).toBe(false);
    expect(set.delete('b')).toBe(true);
    expect(set.delete('b')).toBe(false);
    expect(set.has('c')).toBe(true);
    expect(set.values()).toEqual(['a', 'c']);
    // A page boundary on a deleted key still continues after it.
    expect(set.page('b', 5).keys).toEqual(['c']);
  });

  it('issues opaque continuation tokens and refuses foreign ones', () => {
    const token = encodeContinuationToken('dev-001:x');
    expect(token).not.toContain('dev-001');
    expect(decodeContinuationToken(token)).toBe('dev-001:x');
    expect(() => decodeContinuationToken('abc')).toThrow(/continuation/);
    expect(() => decodeContinuationToken('!!!')).toThrow(/continuation/);
  });
});

const group = (extra: Partial<EnrollmentGroup> = {}): EnrollmentGroup => ({
  enrollmentGroupId: 'g',
  attestation: { type: 'symmetricKey' },
  ...extra,
});

describe('allocation rules', () => {
  const linked = [
    { hostName: 'one.azure-devices.net', allocationWeight: 1 },
    { hostName: 'two.azure-devices.net', allocationWeight: 3 },
    { hostName: 'never.azure-devices.net', applyAllocationPolicy: false },
  ];

  it('hashes over linked hubs by weight, skipping hubs that opt out, and is case-insensitive', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const hub = hashedHub(`device-${i}`, group(), linked)!;
      counts.set(hub, (counts.get(hub) ?? 0) + 1);
    }
    expect(counts.get('never.azure-devices.net')).toBeUndefined();
    const share = counts.get('two.azure-devices.net')! / 4000;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
    expect(hashedHub('Device-7', group(), linked)).toBe(hashedHub('device-7', group(), linked));
  });

  it("restricts to the enrollment's hubs, which may include a hub that opts out of policies", () => {
    const enrollment = group({ iotHubs: ['never.azure-devices.net'] });
    expect(hashedHub('device-1', enrollment, linked)).toBe('never.azure-devices.net');
    expect(staticHub(group({ iotHubHostName: 'one.azure-devices.net' }))).toBe('one.azure-devices.net');
    expect(hashedHub('device-1', group(), [])).toBeUndefined();
  });

  it('sends linkedHubs as DPS documents them', () => {
    const hosts = linked.map((hub) => hub.hostName);
    expect(webhookLinkedHubs(group(), linked, undefined)).toEqual(hosts);
    expect(webhookLinkedHubs(group({ iotHubs: ['two.azure-devices.net'] }), linked, undefined)).toEqual([
      'two.azure-devices.net',
    ]);
    const never = group({ reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true } });
    expect(webhookLinkedHubs(never, linked, 'one.azure-devices.net')).toEqual(['one.azure-devices.net']);
    expect(webhookLinkedHubs(never, linked, undefined)).toEqual(hosts);
  });

  it('derives the substatus and whether the initial twin applies', () => {
    const migrate = { updateHubAssignment: true, migrateDeviceData: true };
    const reset = { updateHubAssignment: true, migrateDeviceData: false };
    expect(assignmentSubstatus(undefined, 'a', migrate)).toBe('initialAssignment');
    const onA = { assignedHub: 'a', initialHub: 'a', substatus: 'initialAssignment' as const };
    expect(assignmentSubstatus(onA, 'A', migrate)).toBe('initialAssignment');
    expect(assignmentSubstatus(onA, 'b', migrate)).toBe('deviceDataMigrated');
    expect(assignmentSubstatus(onA, 'b', reset)).toBe('deviceDataReset');
    expect(
      assignmentSubstatus(
        { assignedHub: 'b', initialHub: 'a', substatus: 'deviceDataMigrated' },
        'a',
        migrate,
      ),
    ).toBe('reprovisionedToInitialAssignment');
    expect(initialTwinApplies(undefined, 'a', migrate)).toBe(true);
    expect(initialTwinApplies('a', 'b', migrate)).toBe(false);
    expect(initialTwinApplies('a', 'b', reset)).toBe(true);
    expect(initialTwinApplies('a', 'a', reset)).toBe(false);
  });
});

describe('custom allocation request and answer', () => {
  it('masks the webhook query', () => {
    expect(maskWebhookUrl('https://f.azurewebsites.net/api/alloc?code=abc&x=1')).toBe(
      'https://f.azurewebsites.net/api/alloc?****',
    );
    expect(maskWebhookUrl('http://127.0.0.1:7071/api/alloc')).toBe('http://127.0.0.1:7071/api/alloc');
  });

  it('builds the runtime context for each attestation type', () => {
    const base = {
      enrollment: {
        kind: 'group' as const,
        value: group({ attestation: { type: 'tpm', tpm: { endorsementKey: 'ek' } } }),
      },
      registrationId: 'r',
      payload: undefined,
      currentHub: 'h',
      currentDeviceId: 'd',
      linkedHubs: ['h'],
    };
    expect(
      buildAllocationRequest({
        ...base,
        attestation: { type: 'tpm', endorsementKey: 'ek', storageRootKey: 'srk' },
      }),
    ).toEqual({
      enrollmentGroup: { enrollmentGroupId: 'g', attestation: { type: 'tpm' } },
      deviceRuntimeContext: {
        registrationId: 'r',
        currentIotHubHostName: 'h',
        currentDeviceId: 'd',
        tpm: { endorsementKey: 'ek', storageRootKey: 'srk' },
      },
      linkedHubs: ['h'],
    });
    const certificateInfo = {
      subjectName: 'CN=r, O=Contoso',
      sha1Thumbprint: 'A1',
      sha256Thumbprint: 'B2',
      issuerName: 'CN=Contoso Intermediate',
      notBeforeUtc: '2026-01-01T00:00:00.000Z',
      notAfterUtc: '2027-01-01T00:00:00.000Z',
      serialNumber: '01',
      version: 3,
    };
    const signingCertificateInfo = { ...certificateInfo, subjectName: 'CN=Contoso Intermediate' };
    expect(
      buildAllocationRequest({
        ...base,
        attestation: { type: 'x509', certificateInfo, signingCertificateInfo, enrollmentGroupId: 'g' },
      }).deviceRuntimeContext,
    ).toHaveProperty('x509', { certificateInfo, signingCertificateInfo, enrollmentGroupId: 'g' });
    // An individual enrollment: the device certificate alone.
    expect(
      buildAllocationRequest({
        ...base,
        attestation: {
          type: 'x509',
          certificateInfo,
          signingCertificateInfo: undefined,
          enrollmentGroupId: undefined,
        },
      }).deviceRuntimeContext,
    ).toHaveProperty('x509', { certificateInfo });
  });

  it('maps 200 answers', () => {
    const hubs = ['Hub-A.azure-devices.net'];
    expect(
      interpretSuccessBody('{"iotHubHostName":"hub-a.azure-devices.net","payload":{"k":1}}', hubs),
    ).toEqual({
      kind: 'assigned',
      hub: 'Hub-A.azure-devices.net',
      initialTwin: undefined,
      payload: { k: 1 },
    });
    const codeOf = (body: string) => {
      const outcome = interpretSuccessBody(body, hubs);
      return outcome.kind === 'failed' ? outcome.errorCode : 0;
    };
    expect(codeOf('{}')).toBe(400208);
    expect(codeOf('{"iotHubHostName":""}')).toBe(400208);
    expect(codeOf('{"iotHubHostName":"other"}')).toBe(400207);
    expect(codeOf('{"iotHubHostName":5}')).toBe(400207);
    expect(codeOf('{"iotHubHostName":"hub-a.azure-devices.net","payload":[1]}')).toBe(400207);
    expect(codeOf('{"iotHubHostName":"hub-a.azure-devices.net","initialTwin":"x"}')).toBe(400207);
    expect(codeOf('[]')).toBe(400207);
    expect(codeOf('')).toBe(400207);
  });
});

describe('ids', () => {
  it('takes letters, digits and : . _ - up to 128, with a letter or digit at both ends', () => {
    for (const id of ['a', 'device-01', 'sn:007.888_abc-mac', 'A'.repeat(128), '9x9']) {
      expect({ id, valid: isValidId(id) }).toEqual({ id, valid: true });
    }
    for (const id of [
      '',
      'device-',
      'device.',
      'device:',
      'device_',
      '-device',
      'a b',
      'a/b',
      'A'.repeat(129),
    ]) {
      expect({ id, valid: isValidId(id) }).toEqual({ id, valid: false });
    }
  });
});
