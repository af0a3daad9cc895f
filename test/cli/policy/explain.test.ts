import { compilePolicy } from '../../../src/allocation/engine';
import { parsePolicy } from '../../../src/allocation/policy';
import type { PolicyInput } from '../../../src/allocation/policy-schema';
import { loadPolicy } from '../../../src/allocation/policy-source';
import { answerAllocationRequest } from '../../../src/allocation/webhook';
import { explainRequest, renderExplanation, type Explanation } from '../../../src/cli/policy/explain';
import {
  copyOf,
  dpsRequestBody,
  officialSample,
  reprovisionCapture,
} from '../../../dev/fixtures/dps-requests';
import type { IssuedCertificate } from '../../../dev/test-ca/authority';
import {
  createTestAuthority,
  DAY_MS,
  expiringIn,
  groupX509,
  infoOf,
  NOW,
  type TestAuthority,
} from '../../support/certificates';

const webhook = { maxBodyBytes: 128 * 1024 };
const defaultPolicy = loadPolicy({ ALLOCATION_POLICY_PATH: 'policies/default.policy.json' });
const explained = (policy = defaultPolicy, body: unknown = officialSample, now?: number): Explanation => {
  const result = explainRequest(policy, JSON.stringify(body), webhook, now);
  if ('error' in result) throw new Error(result.error);
  return result;
};

describe('explain', () => {
  it('official DPS sample with the default policy: rule toasters, nothing before it', () => {
    const e = explained();
    expect(e.rule).toEqual({ name: 'toasters', path: '$.rules[0]' });
    expect(e.skippedRules).toEqual([]);
    expect(e).toMatchObject({
      status: 200,
      outcome: 'assigned',
      assignment: 'initial',
      strategy: 'hashed',
      candidates: ['custom-allocation-toasters-hub.azure-devices.net'],
      hub: 'custom-allocation-toasters-hub.azure-devices.net',
    });
  });

  it('gives exactly the webhook answer', () => {
    const body = JSON.stringify(officialSample);
    const answer = answerAllocationRequest(compilePolicy(defaultPolicy), body, webhook);
    const e = explained();
    expect({ status: e.status, body: e.body }).toEqual({ status: answer.status, body: answer.jsonBody });
  });

  it('lists each earlier rule with why it did not decide', () => {
    const policy = parsePolicy(
      {
        rules: [
          { name: 'heatpumps', match: { registrationId: '*-contoso-hpsd-*' }, hubs: ['*-heatpumps-*'] },
          { name: 'edge', match: { iotEdge: true } },
          { name: 'eu', hubs: ['*.eu.azure-devices.net'], onNoCandidate: 'nextRule' },
          { name: 'toasters', match: { registrationId: '*-contoso-tstrsd-*' }, hubs: ['*-toasters-*'] },
        ],
      } satisfies PolicyInput,
      'test',
    );
    const e = explained(policy);
    expect(e.rule).toEqual({ name: 'toasters', path: '$.rules[3]' });
    expect(e.skippedRules).toEqual([
      {
        rule: 'heatpumps',
        path: '$.rules[0]',
        why: "registrationId 'breakroom499-contoso-tstrsd-007' does not match '*-contoso-hpsd-*'",
      },
      { rule: 'edge', path: '$.rules[1]', why: 'capabilities.iotEdge is false, rule wants true' },
      {
        rule: 'eu',
        path: '$.rules[2]',
        why: expect.stringContaining('none of [*.eu.azure-devices.net] is linked'),
      },
    ]);
    const text = renderExplanation(e);
    expect(text).toContain('Rule         toasters ($.rules[3])');
    expect(text).toContain('  edge ($.rules[1]): capabilities.iotEdge is false, rule wants true');
  });

  it('explains a rejection: the 400 body, no deciding rule, every rule skipped', () => {
    const policy = parsePolicy(
      { rules: [{ name: 'heatpumps', match: { registrationId: '*-hpsd-*' } }] } satisfies PolicyInput,
      'test',
    );
    const e = explained(policy);
    expect(e).toMatchObject({ status: 400, outcome: 'rejected', rule: null, hub: null });
    expect(e.body).toMatchObject({ error: 'allocation rejected', rule: null });
    expect(e.skippedRules.map((miss) => miss.rule)).toEqual(['heatpumps']);
    expect(renderExplanation(e)).toContain('Webhook answer: HTTP 400');
  });

  it('shows a reprovisioned device as such', () => {
    const e = explained(defaultPolicy, reprovisionCapture);
    expect(e.assignment).toBe('reprovision');
    expect(e.currentHub).toBe('contoso-toasters-hub-1098.azure-devices.net');
    expect(e.reason).toContain('sticky');
  });

  it('stops at the 400 the webhook gives an invalid request', () => {
    const body = copyOf(officialSample) as Record<string, unknown>;
    delete body.linkedHubs;
    const result = explainRequest(defaultPolicy, JSON.stringify(body), webhook);
    expect(result).toMatchObject({
      status: 400,
      error:
        'request body is not a DPS allocation request: linkedHubs: Invalid input: expected array, received undefined',
    });
  });
});

describe('explain: X.509 devices', () => {
  let ca: TestAuthority;
  let fabrikam: IssuedCertificate;
  let contoso: IssuedCertificate;
  beforeAll(async () => {
    ca = await createTestAuthority();
    fabrikam = await ca.intermediate.issueLeaf({ subject: 'CN=lab-7, O=Fabrikam', ...expiringIn(90) });
    contoso = await ca.intermediate.issueLeaf({ subject: 'CN=meter-1, O=Contoso-EU', ...expiringIn(45) });
  });
  const policy = () =>
    parsePolicy(
      {
        rules: [
          { name: 'contoso', match: { x509: { subject: { O: 'Contoso*' } } } },
          { name: 'rotation', match: { x509: { notAfter: { within: '30d' } } } },
          { name: 'rest' },
        ],
      } satisfies PolicyInput,
      'test',
    );
  const x509Body = (certificate: IssuedCertificate) =>
    dpsRequestBody({
      registrationId: 'lab-7',
      group: 'meters',
      attestation: 'x509',
      x509: groupX509(certificate, ca.intermediate, 'meters'),
      linkedHubs: ['hub-eu-1.azure-devices.net'],
    });

  it('says why each certificate condition failed, and shows the certificate', () => {
    const e = explained(policy(), x509Body(fabrikam), NOW);
    const info = infoOf(fabrikam);
    expect(e.skippedRules.map((miss) => miss.why)).toEqual([
      "x509.subject.O 'Fabrikam' does not match 'Contoso*'",
      `x509.notAfter ${info.notAfterUtc} is more than 30d after 2026-06-01T00:00:00.000Z`,
    ]);
    expect(e.certificate).toEqual({
      subject: info.subjectName,
      issuer: info.issuerName,
      signingSubject: infoOf(ca.intermediate).subjectName,
      notBefore: info.notBeforeUtc,
      notAfter: info.notAfterUtc,
      sha1Thumbprint: info.sha1Thumbprint,
      sha256Thumbprint: info.sha256Thumbprint,
    });
    const text = renderExplanation(e);
    expect(text).toContain(`Certificate  subject ${info.subjectName}\n`);
    expect(text).toContain(
      `valid ${info.notBeforeUtc} to ${info.notAfterUtc} (judged at 2026-06-01T00:00:00.000Z)`,
    );
    expect(text).toContain(`  contoso ($.rules[0]): x509.subject.O 'Fabrikam' does not match 'Contoso*'`);
  });

  it('judges expiry at the time it is given', () => {
    expect(explained(policy(), x509Body(fabrikam), NOW).rule?.name).toBe('rest');
    expect(explained(policy(), x509Body(fabrikam), NOW + 70 * DAY_MS).rule?.name).toBe('rotation');
    expect(explained(policy(), x509Body(contoso), NOW).rule?.name).toBe('contoso');
  });

  it('a symmetric-key device has no certificate, and no certificate lines', () => {
    const e = explained(policy(), officialSample, NOW);
    expect(e.skippedRules.map((miss) => miss.why)).toEqual([
      'device has no certificate (attestation symmetricKey)',
      'device has no certificate (attestation symmetricKey)',
    ]);
    expect(e.certificate).toBeNull();
    expect(renderExplanation(e)).not.toContain('Certificate');
  });

  it('an X.509 device without readable certificate details says so', () => {
    const body = x509Body(fabrikam);
    (body.deviceRuntimeContext as Record<string, unknown>).x509 = { enrollmentGroupId: 'meters' };
    const e = explained(policy(), body, NOW);
    expect(e.skippedRules[0]?.why).toBe(
      'device has no certificate details (deviceRuntimeContext.x509 has no readable certificateInfo)',
    );
    expect(renderExplanation(e)).toContain('Certificate  none readable in deviceRuntimeContext.x509');
  });
});

describe('explain: hub device counts', () => {
  const capacityAware = loadPolicy({ ALLOCATION_POLICY_PATH: 'policies/examples/capacity-aware.json' });
  const [hub1, hub2, hub3] = [1, 2, 3].map((n) => `contoso-hub-${n}.azure-devices.net`);
  const body = dpsRequestBody({
    registrationId: 'sensor-1',
    group: 'sensors',
    attestation: 'symmetricKey',
    linkedHubs: [hub1!, hub2!, hub3!],
    currentHub: hub3,
  });
  const withCounts = (counts: Record<string, number>): Explanation => {
    const result = explainRequest(
      capacityAware,
      JSON.stringify(body),
      webhook,
      NOW,
      new Map(Object.entries(counts)),
    );
    if ('error' in result) throw new Error(result.error);
    return result;
  };

  it('decides with the counts given, a linked hub not listed holding 0, and shows them per hub', () => {
    const e = withCounts({ [hub1!]: 6000 });
    expect(e).toMatchObject({ hub: hub2, candidates: [hub2], strategy: 'leastLoaded' });
    expect(e.hubLoad).toEqual([
      { hub: hub1, devices: 6000, maxDevices: 6000, fill: 1, draining: false },
      { hub: hub2, devices: 0, maxDevices: 6000, fill: 0, draining: false },
      { hub: hub3, devices: 0, maxDevices: 6000, fill: 0, draining: true },
    ]);
    expect(e.reason).toBe(
      `sticky: current hub ${hub3} is draining, so the device moves; leastLoaded: lowest fill (devices / maxDevices, or / weight without maxDevices); not offered: ${hub3} (draining), ${hub1} (full: maxDevices 6000)`,
    );
    const text = renderExplanation(e).split('\n');
    expect(text).toContain(`Hub load     ${hub1}  6,000 devices of maxDevices 6,000 (100.0%, full)`);
    expect(text).toContain(`             ${hub3}  0 devices of maxDevices 6,000 (0.0%), draining`);
  });

  it('without counts, says how it decided instead, and shows no hub load', () => {
    const result = explainRequest(capacityAware, JSON.stringify(body), webhook, NOW);
    if ('error' in result) throw new Error(result.error);
    expect(result.hubLoad).toBeNull();
    expect(result.reason).toContain(
      'leastLoaded: no hub device counts yet: weighted rendezvous hash instead',
    );
    expect(renderExplanation(result)).not.toContain('Hub load');
  });

  it('rejects, naming each hub, when every candidate is full or draining', () => {
    const e = withCounts({ [hub1!]: 6000, [hub2!]: 7000 });
    expect(e).toMatchObject({ status: 400, outcome: 'rejected' });
    expect(e.reason).toBe(
      `rule 'fleet': every candidate is full or draining (${hub1}: full, 6000 devices of maxDevices 6000; ${hub2}: full, 7000 devices of maxDevices 6000; ${hub3}: draining)`,
    );
  });
});
