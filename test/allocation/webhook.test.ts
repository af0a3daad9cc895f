import { compilePolicy } from '../../src/allocation/engine';
import { loadPolicy } from '../../src/allocation/policy-source';
import { answerAllocationRequest } from '../../src/allocation/webhook';
import {
  copyOf,
  individualEnrollmentBody,
  officialSample,
  reprovisionCapture,
  tpmBody,
  x509Body,
} from '../../dev/fixtures/dps-requests';

const allocator = compilePolicy(loadPolicy({ ALLOCATION_POLICY_PATH: 'policies/default.policy.json' }));
const answer = (body: unknown, maxBodyBytes = 128 * 1024) =>
  answerAllocationRequest(allocator, typeof body === 'string' ? body : JSON.stringify(body), {
    maxBodyBytes,
  });

describe('default policy on the documented DPS bodies', () => {
  it('official sample: a toaster goes to the -toasters- hub with the tutorial twin', () => {
    const result = answer(officialSample);
    expect(result.status).toBe(200);
    expect(result.jsonBody).toEqual({
      iotHubHostName: 'custom-allocation-toasters-hub.azure-devices.net',
      initialTwin: {
        tags: { deviceType: 'toaster' },
        properties: { desired: { state: 'ready', darknessSetting: 'medium' } },
      },
    });
    expect(result.log).toMatchObject({ outcome: 'assigned', rule: 'toasters', assignment: 'initial' });
  });

  it('reprovision capture with payload: the device keeps its current toaster hub', () => {
    const result = answer(reprovisionCapture);
    expect(result.status).toBe(200);
    expect(result.jsonBody).toMatchObject({ iotHubHostName: 'contoso-toasters-hub-1098.azure-devices.net' });
    expect(result.log).toMatchObject({
      assignment: 'reprovision',
      reason: expect.stringContaining('sticky'),
    });
  });

  it('an individual heat pump goes to the -heatpumps- hub with its twin', () => {
    const result = answer(individualEnrollmentBody);
    expect(result.jsonBody).toEqual({
      iotHubHostName: 'contoso-heatpumps-hub-1098.azure-devices.net',
      initialTwin: {
        tags: { deviceType: 'heatpump' },
        properties: { desired: { state: 'on', temperatureSetting: 65 } },
      },
    });
    expect(result.log.enrollment).toEqual({ kind: 'individual', id: 'kitchen-contoso-hpsd-088' });
  });

  it.each([
    ['TPM', tpmBody],
    ['X.509', x509Body],
  ])('%s bodies are accepted and hashed over linkedHubs', (_name, body) => {
    const result = answer(body);
    expect(result.status).toBe(200);
    expect(body.linkedHubs).toContain((result.jsonBody as { iotHubHostName: string }).iotHubHostName);
    expect(result.log.rule).toBe('everything-else');
  });

  it('a reprovisioned device whose hub is no longer linked is hashed over the linked ones', () => {
    const body = copyOf(tpmBody);
    Object.assign(body.deviceRuntimeContext, { currentIotHubHostName: 'retired-hub.azure-devices.net' });
    const result = answer(body);
    expect(body.linkedHubs).toContain((result.jsonBody as { iotHubHostName: string }).iotHubHostName);
  });

  it('a toaster with no -toasters- hub linked is rejected with a 400 saying why', () => {
    const body = copyOf(officialSample);
    body.linkedHubs = ['custom-allocation-heatpumps-hub.azure-devices.net'];
    const result = answer(body);
    expect(result.status).toBe(400);
    expect(result.jsonBody).toEqual({
      error: 'allocation rejected',
      reason:
        "rule 'toasters': none of [*-toasters-*] is linked (linkedHubs: [custom-allocation-heatpumps-hub.azure-devices.net])",
      registrationId: 'breakroom499-contoso-tstrsd-007',
      rule: 'toasters',
    });
  });
});

describe('malformed requests get a 400 that says what is wrong', () => {
  const errorOf = (body: unknown, max?: number) => {
    const result = answer(body, max);
    expect(result.status).toBe(400);
    expect(result.log.outcome).toBe('invalid-request');
    return result.jsonBody as { error: string; details?: { path: string; message: string }[] };
  };

  it('empty body', () => {
    expect(errorOf('').error).toBe('request body is empty; expected the DPS allocation request (JSON)');
  });

  it('not JSON', () => {
    expect(errorOf('{"linkedHubs": [').error).toMatch(/^request body is not valid JSON: /);
  });

  it('too large', () => {
    expect(errorOf(officialSample, 100).error).toMatch(/^request body is \d+ bytes; the limit is 100/);
  });

  it('no enrollment', () => {
    const { enrollmentGroup: _ignored, ...body } = copyOf(officialSample);
    expect(errorOf(body).details).toEqual([
      { path: '(body)', message: 'one of enrollmentGroup or individualEnrollment is required' },
    ]);
  });

  it('payload that is not an object', () => {
    const body = copyOf(officialSample);
    Object.assign(body.deviceRuntimeContext, { payload: 'firmware=1.2' });
    expect(errorOf(body).details).toEqual([
      { path: 'deviceRuntimeContext.payload', message: 'payload must be a JSON object' },
    ]);
  });

  it('missing registration id and hubs of the wrong type', () => {
    const body = { ...copyOf(officialSample), deviceRuntimeContext: {}, linkedHubs: 'hub-1' };
    const paths = errorOf(body).details?.map((d) => d.path);
    expect(paths).toEqual(['deviceRuntimeContext.registrationId', 'linkedHubs']);
  });

  it('tolerates unknown fields', () => {
    const body = { ...copyOf(officialSample), futureField: { x: 1 } };
    Object.assign(body.deviceRuntimeContext, { somethingNew: true });
    expect(answer(body).status).toBe(200);
  });
});

describe('decision log', () => {
  it('carries no secrets: no payload values, no webhook URL, no keys', () => {
    const body = copyOf(reprovisionCapture);
    body.enrollmentGroup.customAllocationDefinition.webhookUrl =
      'https://fn.azurewebsites.net/api/allocate?code=SECRET-CODE';
    Object.assign(body.enrollmentGroup.attestation, {
      symmetricKey: { primaryKey: 'PRIMARY-KEY', secondaryKey: 'SECONDARY-KEY' },
    });
    const line = JSON.stringify(answer(body).log);
    for (const secret of ['SECRET-CODE', 'PRIMARY-KEY', 'SECONDARY-KEY', '12.0.2.5', 'webhookUrl']) {
      expect(line).not.toContain(secret);
    }
  });
});

describe('tolerance of what DPS may add', () => {
  it('accepts new values in enrollment fields the policy does not read', () => {
    const body = copyOf(officialSample);
    Object.assign(body.enrollmentGroup, {
      provisioningStatus: 'suspended',
      allocationPolicy: 'customV2',
      reprovisionPolicy: { updateHubAssignment: 'sometimes' },
      customAllocationDefinition: { webhookUrl: 'https://x/api/allocate?****' },
    });
    Object.assign(body.enrollmentGroup.attestation, { type: 'futureAttestation' });
    const result = answer(body);
    expect(result.status).toBe(200);
    expect(result.jsonBody).toMatchObject({
      iotHubHostName: 'custom-allocation-toasters-hub.azure-devices.net',
    });
  });
});
