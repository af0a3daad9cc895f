import { compilePolicy } from '../../../src/allocation/engine';
import { parsePolicy } from '../../../src/allocation/policy';
import type { PolicyInput } from '../../../src/allocation/policy-schema';
import { loadPolicy } from '../../../src/allocation/policy-source';
import { answerAllocationRequest } from '../../../src/allocation/webhook';
import { explainRequest, renderExplanation, type Explanation } from '../../../src/cli/policy/explain';
import { copyOf, officialSample, reprovisionCapture } from '../../../dev/fixtures/dps-requests';

const webhook = { maxBodyBytes: 128 * 1024 };
const defaultPolicy = loadPolicy({ ALLOCATION_POLICY_PATH: 'policies/default.policy.json' });
const explained = (policy = defaultPolicy, body: unknown = officialSample): Explanation => {
  const result = explainRequest(policy, JSON.stringify(body), webhook);
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
