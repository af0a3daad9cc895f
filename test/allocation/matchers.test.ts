import { decideWith, deviceRequest } from './support/builders';
import type { PolicyInput } from '../../src/allocation/policy-schema';
import type { DeviceOptions } from './support/builders';

/** Which rule a device falls into, with one matching rule before a catch-all. */
function ruleFor(
  match: NonNullable<PolicyInput['rules']>[number]['match'],
  device: DeviceOptions,
): string | undefined {
  return decideWith({ rules: [{ name: 'rule', match }, { name: 'catch-all' }] }, deviceRequest(device)).rule;
}

describe('registrationId matcher', () => {
  it('matches a glob case-insensitively', () => {
    expect(
      ruleFor({ registrationId: '*-contoso-tstrsd-*' }, { registrationId: 'Breakroom-CONTOSO-tstrsd-007' }),
    ).toBe('rule');
    expect(
      ruleFor({ registrationId: '*-contoso-tstrsd-*' }, { registrationId: 'breakroom-contoso-hpsd-007' }),
    ).toBe('catch-all');
  });

  it('matches ? as exactly one character', () => {
    expect(ruleFor({ registrationId: 'dev-?' }, { registrationId: 'dev-7' })).toBe('rule');
    expect(ruleFor({ registrationId: 'dev-?' }, { registrationId: 'dev-77' })).toBe('catch-all');
  });

  it('treats regex metacharacters in globs literally', () => {
    expect(ruleFor({ registrationId: 'a.b*' }, { registrationId: 'a.bc' })).toBe('rule');
    expect(ruleFor({ registrationId: 'a.b*' }, { registrationId: 'axbc' })).toBe('catch-all');
  });

  it('matches a regex, case-insensitive unless asked', () => {
    expect(ruleFor({ registrationId: { regex: '^sn-\\d{3}$' } }, { registrationId: 'SN-123' })).toBe('rule');
    expect(
      ruleFor(
        { registrationId: { regex: '^sn-\\d{3}$', caseSensitive: true } },
        { registrationId: 'SN-123' },
      ),
    ).toBe('catch-all');
  });

  it('matches any of a list', () => {
    const match = { registrationId: ['lab-*', { regex: '^qa-' }] };
    expect(ruleFor(match, { registrationId: 'lab-1' })).toBe('rule');
    expect(ruleFor(match, { registrationId: 'qa-2' })).toBe('rule');
    expect(ruleFor(match, { registrationId: 'prod-3' })).toBe('catch-all');
  });
});

describe('enrollment matchers', () => {
  it('matches the enrollment group id, never an individual enrollment', () => {
    expect(ruleFor({ enrollmentGroupId: 'fleet-*' }, { groupId: 'fleet-east' })).toBe('rule');
    expect(ruleFor({ enrollmentGroupId: 'fleet-*' }, { groupId: 'lab' })).toBe('catch-all');
    expect(ruleFor({ enrollmentGroupId: '*' }, { groupId: null })).toBe('catch-all');
  });

  it('matches the enrollment kind', () => {
    expect(ruleFor({ enrollmentKind: 'individual' }, { groupId: null })).toBe('rule');
    expect(ruleFor({ enrollmentKind: 'individual' }, { groupId: 'g' })).toBe('catch-all');
    expect(ruleFor({ enrollmentKind: 'group' }, { groupId: 'g' })).toBe('rule');
  });

  it('matches one attestation type or a list', () => {
    expect(ruleFor({ attestation: 'tpm' }, { attestation: 'tpm' })).toBe('rule');
    expect(ruleFor({ attestation: 'tpm' }, { attestation: 'x509' })).toBe('catch-all');
    expect(ruleFor({ attestation: ['x509', 'symmetricKey'] }, { attestation: 'symmetricKey' })).toBe('rule');
  });

  it('matches capabilities.iotEdge', () => {
    expect(ruleFor({ iotEdge: true }, { iotEdge: true })).toBe('rule');
    expect(ruleFor({ iotEdge: true }, { iotEdge: false })).toBe('catch-all');
    expect(ruleFor({ iotEdge: false }, { iotEdge: false })).toBe('rule');
  });

  it('tells initial assignment from reprovisioning by currentIotHubHostName', () => {
    expect(ruleFor({ assignment: 'initial' }, {})).toBe('rule');
    expect(ruleFor({ assignment: 'initial' }, { currentHub: 'hub-eu-1.azure-devices.net' })).toBe(
      'catch-all',
    );
    expect(ruleFor({ assignment: 'reprovision' }, { currentHub: 'hub-eu-1.azure-devices.net' })).toBe('rule');
  });
});

describe('payload matchers', () => {
  const payload = { model: { id: 'dtmi:contoso:toaster;2', rev: 3 }, region: 'westeurope', beta: null };

  it('equals compares JSON values, nested by dotted path', () => {
    expect(ruleFor({ payload: { 'model.rev': { equals: 3 } } }, { payload })).toBe('rule');
    expect(ruleFor({ payload: { 'model.rev': { equals: '3' } } }, { payload })).toBe('catch-all');
    expect(
      ruleFor({ payload: { model: { equals: { rev: 3, id: 'dtmi:contoso:toaster;2' } } } }, { payload }),
    ).toBe('rule');
  });

  it('in matches one of several values', () => {
    expect(ruleFor({ payload: { region: { in: ['northeurope', 'westeurope'] } } }, { payload })).toBe('rule');
    expect(ruleFor({ payload: { region: { in: ['eastus'] } } }, { payload })).toBe('catch-all');
  });

  it('exists checks presence (null counts as absent)', () => {
    expect(ruleFor({ payload: { 'model.id': { exists: true } } }, { payload })).toBe('rule');
    expect(ruleFor({ payload: { 'model.sku': { exists: false } } }, { payload })).toBe('rule');
    expect(ruleFor({ payload: { beta: { exists: true } } }, { payload })).toBe('catch-all');
    expect(ruleFor({ payload: { 'model.id': { exists: true } } }, {})).toBe('catch-all');
  });

  it('regex matches strings only', () => {
    expect(ruleFor({ payload: { 'model.id': { regex: 'toaster;\\d+$' } } }, { payload })).toBe('rule');
    expect(ruleFor({ payload: { 'model.rev': { regex: '3' } } }, { payload })).toBe('catch-all');
  });

  it('requires every condition of a rule', () => {
    const match = { registrationId: 'dev-*', payload: { region: { equals: 'westeurope' } } };
    expect(ruleFor(match, { registrationId: 'dev-1', payload })).toBe('rule');
    expect(ruleFor(match, { registrationId: 'dev-1', payload: { region: 'eastus' } })).toBe('catch-all');
    expect(ruleFor(match, { registrationId: 'box-1', payload })).toBe('catch-all');
  });
});

describe('explanations', () => {
  it('says why each earlier rule did not match', () => {
    const decision = decideWith(
      {
        rules: [
          { name: 'toasters', match: { registrationId: '*-tstrsd-*' } },
          { name: 'edge', match: { iotEdge: true } },
          { name: 'eu', match: { payload: { region: { equals: 'westeurope' } } } },
          { name: 'rest' },
        ],
      },
      deviceRequest({ registrationId: 'pump-1', payload: { region: 'eastus' } }),
      true,
    );
    expect(decision.rule).toBe('rest');
    expect(decision.skippedRules).toEqual([
      { rule: 'toasters', why: "registrationId 'pump-1' does not match '*-tstrsd-*'" },
      { rule: 'edge', why: 'capabilities.iotEdge is false, rule wants true' },
      { rule: 'eu', why: 'payload.region ("eastus") does not equal "westeurope"' },
    ]);
  });
});
