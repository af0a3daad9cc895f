import { attestationRecord, emulatorResourceId } from '../../../dev/dps-emulator/resource-logs';
import { attestationAttemptOf } from '../../../src/dps/resource-logs/attestation-attempts';

const RESOURCE_ID = emulatorResourceId('contoso-dps');
const AT = new Date('2026-12-07T01:02:03.000Z');

describe('attestationAttemptOf', () => {
  it('reads a refused attempt in the resource log schema (the storage archive form)', () => {
    const line = attestationRecord(
      RESOURCE_ID,
      {
        registrationId: 'rogue-meter-001',
        protocol: 'Mqtt',
        succeeded: false,
        status: 401,
        errorCode: 401002,
        reason: 'the certificate chains to no enrolled signing certificate',
      },
      AT,
    );
    expect(attestationAttemptOf(line)).toEqual({
      registrationId: 'rogue-meter-001',
      at: AT,
      succeeded: false,
      protocol: 'Mqtt',
      resultSignature: '401',
      resultDescription: '401002: the certificate chains to no enrolled signing certificate',
    });
  });

  it('reads the Log Analytics form of learn.microsoft.com/azure/iot-dps/monitor-iot-dps-reference', () => {
    const line = JSON.stringify({
      CallerIPAddress: '24.18.226.XXX',
      Category: 'DeviceOperations',
      CorrelationId: '68952383-80c0-436f-a2e3-f8ae9a41c69d',
      DurationMs: '226',
      Level: 'Information',
      OperationName: 'AttestationAttempt',
      OperationVersion: 'March2019',
      ResultDescription: '',
      ResultSignature: '',
      ResultType: 'Success',
      TimeGenerated: '2022-04-02T00:05:51Z',
      properties_s: '{"id":"my-device-1","type":"Registration","protocol":"Mqtt"}',
    });
    expect(attestationAttemptOf(line)).toEqual({
      registrationId: 'my-device-1',
      at: new Date('2022-04-02T00:05:51Z'),
      succeeded: true,
      protocol: 'Mqtt',
      resultSignature: undefined,
      resultDescription: undefined,
    });
  });

  it('leaves other operations and categories out', () => {
    const upsert = JSON.stringify({
      time: AT.toISOString(),
      category: 'ServiceOperations',
      operationName: 'Upsert',
      properties: { id: 'my-device-1', type: 'IndividualEnrollment', protocol: 'Http' },
    });
    const otherCategory = JSON.stringify({
      time: AT.toISOString(),
      category: 'ServiceOperations',
      operationName: 'AttestationAttempt',
      properties: { id: 'x' },
    });
    expect(attestationAttemptOf(upsert)).toBeUndefined();
    expect(attestationAttemptOf(otherCategory)).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"time": '],
    ['an array', '[1,2]'],
    ['no registration id', JSON.stringify({ time: AT.toISOString(), operationName: 'AttestationAttempt' })],
    [
      'no time',
      JSON.stringify({ operationName: 'AttestationAttempt', properties: { id: 'd' }, resultType: 'Failure' }),
    ],
    [
      'properties that are not JSON',
      JSON.stringify({ time: AT.toISOString(), operationName: 'AttestationAttempt', properties_s: '{id' }),
    ],
  ])('calls a line with %s malformed', (_, line) => {
    expect(attestationAttemptOf(line)).toBe('malformed');
  });
});
