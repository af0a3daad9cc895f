import type { PolicyInput } from '../../src/allocation/policy-schema';
import { decideWith, deviceRequest, HUBS } from './support/builders';

const hubs = {
  eu1: { hostName: HUBS.eu1, region: 'westeurope' },
  eu2: { hostName: HUBS.eu2, region: 'northeurope' },
  us1: { hostName: HUBS.us1, region: 'eastus', weight: 3 },
  asia1: { hostName: HUBS.asia1, region: 'southeastasia' },
};

describe('static strategy', () => {
  it('takes the first linked hub in the rule order of preference', () => {
    const policy: PolicyInput = {
      hubs,
      rules: [{ name: 'r', hubs: ['us1', 'eu1'], strategy: { type: 'static' } }],
    };
    expect(decideWith(policy, deviceRequest()).hub).toBe(HUBS.us1);
    expect(decideWith(policy, deviceRequest({ linkedHubs: [HUBS.eu1, HUBS.eu2] })).hub).toBe(HUBS.eu1);
  });
});

describe('hashed strategy', () => {
  const policy: PolicyInput = { hubs, rules: [{ name: 'r', strategy: { type: 'hashed' } }] };

  it('is deterministic and ignores the letter case of the registration id', () => {
    const first = decideWith(policy, deviceRequest({ registrationId: 'Sensor-42' })).hub;
    expect(decideWith(policy, deviceRequest({ registrationId: 'sensor-42' })).hub).toBe(first);
    expect(decideWith(policy, deviceRequest({ registrationId: 'SENSOR-42' })).hub).toBe(first);
  });

  it('does not depend on the order of linkedHubs', () => {
    for (let i = 0; i < 50; i++) {
      const registrationId = `device-${i}`;
      const forward = decideWith(
        policy,
        deviceRequest({ registrationId, linkedHubs: Object.values(HUBS) }),
      ).hub;
      const reversed = decideWith(
        policy,
        deviceRequest({ registrationId, linkedHubs: Object.values(HUBS).reverse() }),
      ).hub;
      expect(reversed).toBe(forward);
    }
  });

  it('honours weights (us1 has weight 3 of a total of 6)', () => {
    let us = 0;
    const n = 6000;
    for (let i = 0; i < n; i++) {
      if (decideWith(policy, deviceRequest({ registrationId: `w-${i}` })).hub === HUBS.us1) us++;
    }
    expect(us / n).toBeGreaterThan(0.46);
    expect(us / n).toBeLessThan(0.54);
  });
});

describe('geo strategy', () => {
  const policy: PolicyInput = {
    hubs,
    regions: {
      westeurope: ['westeurope', 'northeurope', 'eastus'],
      uksouth: ['northeurope', 'westeurope'],
    },
    rules: [{ name: 'geo', strategy: { type: 'geo', regionField: 'location.region' } }],
  };

  it('sends a device to a hub in the nearest region of its region table', () => {
    const decision = decideWith(policy, deviceRequest({ payload: { location: { region: 'UKSouth' } } }));
    expect(decision.hub).toBe(HUBS.eu2);
    expect(decision.reason).toContain("nearest hub region 'northeurope'");
  });

  it('moves to the next region when the nearest has no linked hub', () => {
    const request = deviceRequest({
      payload: { location: { region: 'westeurope' } },
      linkedHubs: [HUBS.eu2, HUBS.us1],
    });
    expect(decideWith(policy, request).hub).toBe(HUBS.eu2);
  });

  it('uses the device region itself when it is not in the table', () => {
    expect(
      decideWith(policy, deviceRequest({ payload: { location: { region: 'southeastasia' } } })).hub,
    ).toBe(HUBS.asia1);
  });

  it('breaks ties between hubs of one region by hashing', () => {
    const twoInRegion: PolicyInput = {
      hubs: {
        a: { hostName: HUBS.eu1, region: 'westeurope' },
        b: { hostName: HUBS.eu2, region: 'westeurope' },
      },
      rules: [{ name: 'geo', strategy: { type: 'geo', regionField: 'region' } }],
    };
    const chosen = new Set<string | undefined>();
    for (let i = 0; i < 40; i++) {
      chosen.add(
        decideWith(
          twoInRegion,
          deviceRequest({ registrationId: `d-${i}`, payload: { region: 'westeurope' } }),
        ).hub,
      );
    }
    expect(chosen).toEqual(new Set([HUBS.eu1, HUBS.eu2]));
  });

  it('hashes over all candidates, or rejects, when the region is unknown', () => {
    const hashed = decideWith(policy, deviceRequest({ payload: {} }));
    expect(hashed.outcome).toBe('assigned');
    expect(hashed.reason).toContain('holds no region');
    const strict: PolicyInput = {
      ...policy,
      rules: [{ name: 'geo', strategy: { type: 'geo', regionField: 'region', onUnknownRegion: 'reject' } }],
    };
    const rejected = decideWith(strict, deviceRequest({ payload: { region: 'mars' } }));
    expect(rejected.outcome).toBe('rejected');
    expect(rejected.reason).toContain("no candidate hub is in a region listed for 'mars'");
  });
});

describe('payloadMap strategy', () => {
  it('maps a payload value to a hub alias', () => {
    const policy: PolicyInput = {
      hubs,
      rules: [
        {
          name: 'tenant',
          strategy: { type: 'payloadMap', field: 'tenant', map: { contoso: 'us1', fabrikam: 'eu2' } },
        },
      ],
    };
    expect(decideWith(policy, deviceRequest({ payload: { tenant: 'fabrikam' } })).hub).toBe(HUBS.eu2);
    const unmapped = decideWith(policy, deviceRequest({ payload: { tenant: 'woodgrove' } }));
    expect(unmapped.outcome).toBe('rejected');
    expect(unmapped.reason).toContain("value 'woodgrove' is not in the map");
  });

  it('without a map, takes the value as an alias or host name', () => {
    const policy: PolicyInput = {
      hubs,
      rules: [{ name: 'named', strategy: { type: 'payloadMap', field: 'hub' } }],
    };
    expect(decideWith(policy, deviceRequest({ payload: { hub: 'asia1' } })).hub).toBe(HUBS.asia1);
    expect(decideWith(policy, deviceRequest({ payload: { hub: HUBS.eu1.toUpperCase() } })).hub).toBe(
      HUBS.eu1,
    );
  });

  it('rejects or hashes when the named hub is not a candidate', () => {
    const request = deviceRequest({ payload: { hub: 'us1' }, linkedHubs: [HUBS.eu1, HUBS.eu2] });
    const reject: PolicyInput = {
      hubs,
      rules: [{ name: 'n', strategy: { type: 'payloadMap', field: 'hub' } }],
    };
    expect(decideWith(reject, request).reason).toContain("names 'us1', which is not a candidate");
    const hashed: PolicyInput = {
      hubs,
      rules: [{ name: 'n', strategy: { type: 'payloadMap', field: 'hub', onMissing: 'hashed' } }],
    };
    expect([HUBS.eu1, HUBS.eu2]).toContain(decideWith(hashed, request).hub);
  });
});
