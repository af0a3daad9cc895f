import { FALLBACK_RULE_NAME } from '../../src/allocation/engine';
import type { PolicyInput } from '../../src/allocation/policy-schema';
import { decideWith, deviceRequest, HUBS } from './support/builders';

describe('hub selection', () => {
  it('takes aliases, host names and globs over linkedHubs, in that order of preference', () => {
    const policy: PolicyInput = {
      hubs: { asia: { hostName: HUBS.asia1 } },
      rules: [
        { name: 'r', hubs: ['asia', HUBS.us1.toUpperCase(), 'hub-eu-*'], strategy: { type: 'static' } },
      ],
    };
    expect(decideWith(policy, deviceRequest()).candidates).toEqual([
      HUBS.asia1,
      HUBS.us1,
      HUBS.eu1,
      HUBS.eu2,
    ]);
  });

  it('returns host names exactly as DPS sent them', () => {
    const linked = ['Hub-EU-1.azure-devices.net'];
    const decision = decideWith(
      { rules: [{ name: 'r', hubs: [HUBS.eu1] }] },
      deviceRequest({ linkedHubs: linked }),
    );
    expect(decision.hub).toBe('Hub-EU-1.azure-devices.net');
  });

  it('never offers a hub that is not linked', () => {
    const policy: PolicyInput = {
      hubs: { asia: { hostName: HUBS.asia1 } },
      rules: [{ name: 'r', hubs: ['asia'] }],
    };
    const decision = decideWith(policy, deviceRequest({ linkedHubs: [HUBS.eu1] }));
    expect(decision.outcome).toBe('rejected');
    expect(decision.reason).toBe(`rule 'r': none of [asia] is linked (linkedHubs: [${HUBS.eu1}])`);
  });
});

describe('reprovisioning', () => {
  const policy = (reprovision: 'sticky' | 'reallocate'): PolicyInput => ({
    rules: [{ name: 'r', hubs: ['hub-eu-*'], strategy: { type: 'static' }, reprovision }],
  });

  it('sticky keeps the current hub while it is a candidate', () => {
    const decision = decideWith(policy('sticky'), deviceRequest({ currentHub: HUBS.eu2 }));
    expect(decision.hub).toBe(HUBS.eu2);
    expect(decision.assignment).toBe('reprovision');
    expect(decision.reason).toContain('sticky');
  });

  it('sticky moves the device when its hub is no longer a candidate', () => {
    expect(decideWith(policy('sticky'), deviceRequest({ currentHub: HUBS.us1 })).hub).toBe(HUBS.eu1);
  });

  it('reallocate lets the strategy choose again', () => {
    expect(decideWith(policy('reallocate'), deviceRequest({ currentHub: HUBS.eu2 })).hub).toBe(HUBS.eu1);
  });

  it('defaults to sticky', () => {
    const decision = decideWith(
      { rules: [{ name: 'r', strategy: { type: 'static' } }] },
      deviceRequest({ currentHub: HUBS.us1 }),
    );
    expect(decision.hub).toBe(HUBS.us1);
  });
});

describe('no match and no candidate', () => {
  const toasters = { name: 'toasters', match: { registrationId: '*-tstrsd-*' }, hubs: ['*-toasters-*'] };

  it('rejects with the fallback message when no rule matches', () => {
    const decision = decideWith(
      { rules: [toasters], fallback: { action: 'reject', message: 'unknown device type' } },
      deviceRequest({ registrationId: 'x-1' }),
    );
    expect(decision.outcome).toBe('rejected');
    expect(decision.rule).toBeUndefined();
    expect(decision.reason).toBe("unknown device type (no rule matches registration 'x-1')");
  });

  it('allocates with the fallback when it says so', () => {
    const decision = decideWith(
      {
        rules: [toasters],
        fallback: { action: 'allocate', hubs: ['hub-us-*'], strategy: { type: 'static' } },
      },
      deviceRequest({ registrationId: 'x-1' }),
    );
    expect(decision).toMatchObject({ outcome: 'assigned', rule: FALLBACK_RULE_NAME, hub: HUBS.us1 });
  });

  it('onNoCandidate: reject (default), nextRule or fallback', () => {
    const request = deviceRequest({ registrationId: 'a-tstrsd-1' });
    const rules = (onNoCandidate?: 'reject' | 'nextRule' | 'fallback'): PolicyInput => ({
      rules: [
        { ...toasters, onNoCandidate },
        { name: 'next', hubs: [HUBS.asia1] },
      ],
      fallback: { action: 'allocate', hubs: [HUBS.eu2] },
    });
    expect(decideWith(rules(), request)).toMatchObject({ outcome: 'rejected', rule: 'toasters' });
    expect(decideWith(rules('nextRule'), request)).toMatchObject({
      outcome: 'assigned',
      rule: 'next',
      hub: HUBS.asia1,
    });
    expect(decideWith(rules('fallback'), request)).toMatchObject({
      outcome: 'assigned',
      rule: FALLBACK_RULE_NAME,
      hub: HUBS.eu2,
    });
  });

  it('rejects when linkedHubs is empty', () => {
    const decision = decideWith({ rules: [{ name: 'any' }] }, deviceRequest({ linkedHubs: [] }));
    expect(decision.outcome).toBe('rejected');
    expect(decision.reason).toContain('no hub is linked');
  });
});

describe('initialTwin and payload templates', () => {
  const policy: PolicyInput = {
    hubs: { us: { hostName: HUBS.us1 } },
    rules: [
      {
        name: 'templated',
        hubs: ['us'],
        initialTwin: {
          tags: { deviceType: 'toaster', group: '{{enrollmentGroupId}}', site: 'site-{{payload.site.code}}' },
          properties: {
            desired: {
              targetTemp: '{{payload.temp}}',
              hubAlias: '{{hubAlias}}',
              missing: '{{payload.nope}}',
            },
          },
        },
        payload: {
          hub: '{{hub}}',
          rule: '{{rule}}',
          id: '{{registrationId}}',
          previous: '{{currentDeviceId}}',
        },
      },
    ],
  };

  it('fills placeholders, keeping JSON types for whole-value placeholders', () => {
    const decision = decideWith(
      policy,
      deviceRequest({ registrationId: 'dev-9', payload: { site: { code: 42 }, temp: 21.5 } }),
    );
    expect(decision.response).toEqual({
      iotHubHostName: HUBS.us1,
      initialTwin: {
        tags: { deviceType: 'toaster', group: 'group-a', site: 'site-42' },
        properties: { desired: { targetTemp: 21.5, hubAlias: 'us' } },
      },
      payload: { hub: HUBS.us1, rule: 'templated', id: 'dev-9', previous: undefined },
    });
  });

  it('rejects a device whose rendered twin breaks IoT Hub limits', () => {
    const decision = decideWith(policy, deviceRequest({ payload: { temp: { 'a.b': 1 } } }));
    expect(decision.outcome).toBe('rejected');
    expect(decision.reason).toContain(
      "initialTwin.properties.desired.targetTemp.a.b twin keys must not contain '.'",
    );
  });

  it('rejects a rendered tag collection over 8 KB', () => {
    const decision = decideWith(
      {
        rules: [
          {
            name: 'big',
            initialTwin: { tags: { a: '{{payload.a}}', b: '{{payload.b}}', c: '{{payload.c}}' } },
          },
        ],
      },
      deviceRequest({ payload: { a: 'x'.repeat(3000), b: 'y'.repeat(3000), c: 'z'.repeat(3000) } }),
    );
    expect(decision.reason).toContain('initialTwin.tags is 90');
    expect(decision.reason).toContain('IoT Hub allows at most 8192');
  });
});
