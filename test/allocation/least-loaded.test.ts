// The leastLoaded strategy: the lowest fill from the hub device counts, ties and missing counts by the hash.
import { compilePolicy, type Allocator } from '../../src/allocation/engine';
import { hubLoadOf, type HubLoadView } from '../../src/allocation/hub-load';
import { LEAST_LOADED_REASONS } from '../../src/allocation/least-loaded';
import { parsePolicy } from '../../src/allocation/policy';
import type { PolicyInput } from '../../src/allocation/policy-schema';
import { deviceRequest, HUBS } from './support/builders';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const FIVE_MINUTES = 300_000;
const linkedHubs = [HUBS.eu1, HUBS.eu2, HUBS.us1];

const allocatorFor = (hubs: PolicyInput['hubs'], strategy: 'leastLoaded' | 'hashed' = 'leastLoaded') =>
  compilePolicy(parsePolicy({ hubs, rules: [{ name: 'r', strategy: { type: strategy } }] }, 'test'));
const fresh = (counts: Record<string, number>) => hubLoadOf(Object.entries(counts), NOW, FIVE_MINUTES);
const decide = (
  allocator: Allocator,
  hubLoad?: HubLoadView,
  registrationId = 'device-1',
  hubs = linkedHubs,
) => allocator.decide(deviceRequest({ registrationId, linkedHubs: hubs }), { now: NOW, hubLoad });

const capped = {
  eu1: { hostName: HUBS.eu1, maxDevices: 6000 },
  eu2: { hostName: HUBS.eu2, maxDevices: 6000 },
  us1: { hostName: HUBS.us1, maxDevices: 6000 },
};

describe('leastLoaded', () => {
  it('picks the candidate with the lowest fill', () => {
    const decision = decide(
      allocatorFor(capped),
      fresh({ [HUBS.eu1]: 5000, [HUBS.eu2]: 3000, [HUBS.us1]: 4000 }),
    );
    expect(decision).toMatchObject({
      strategy: 'leastLoaded',
      hub: HUBS.eu2,
      reason: LEAST_LOADED_REASONS.lowest,
    });
  });

  it('fill is devices / maxDevices, or devices / weight for a hub without maxDevices', () => {
    // eu1 holds 5000 of 10000 (0.5); eu2 weighs 1000, 400 devices (0.4); us1 weighs 2, 2 devices (1).
    const mixed = allocatorFor({
      eu1: { hostName: HUBS.eu1, maxDevices: 10_000 },
      eu2: { hostName: HUBS.eu2, weight: 1000 },
      us1: { hostName: HUBS.us1, weight: 2 },
    });
    expect(decide(mixed, fresh({ [HUBS.eu1]: 5000, [HUBS.eu2]: 400, [HUBS.us1]: 2 })).hub).toBe(HUBS.eu2);
    expect(decide(mixed, fresh({ [HUBS.eu1]: 3000, [HUBS.eu2]: 400, [HUBS.us1]: 2 })).hub).toBe(HUBS.eu1);
    // Without caps, weights say how many devices each hub should hold: 300 / 4 beats 100 / 1.
    const weighted = allocatorFor({
      eu1: { hostName: HUBS.eu1 },
      eu2: { hostName: HUBS.eu2, weight: 4 },
    });
    const counts = fresh({ [HUBS.eu1]: 100, [HUBS.eu2]: 300 });
    expect(decide(weighted, counts, 'd', [HUBS.eu1, HUBS.eu2]).hub).toBe(HUBS.eu2);
  });

  it('never picks a full hub, even when the others hold more devices', () => {
    const policy = allocatorFor({ ...capped, us1: { hostName: HUBS.us1, maxDevices: 100 } });
    const decision = decide(policy, fresh({ [HUBS.eu1]: 5000, [HUBS.eu2]: 5900, [HUBS.us1]: 100 }));
    expect(decision.hub).toBe(HUBS.eu1);
    expect(decision.reason).toBe(
      `${LEAST_LOADED_REASONS.lowest}; not offered: ${HUBS.us1} (full: maxDevices 100)`,
    );
  });

  it('never picks a draining hub, even the emptiest', () => {
    const policy = allocatorFor({ ...capped, eu1: { hostName: HUBS.eu1, drain: true } });
    const decision = decide(policy, fresh({ [HUBS.eu1]: 0, [HUBS.eu2]: 500, [HUBS.us1]: 100 }));
    expect(decision).toMatchObject({ hub: HUBS.us1, candidates: [HUBS.eu2, HUBS.us1] });
    expect(decide(policy, fresh({ [HUBS.eu1]: 0, [HUBS.eu2]: 50, [HUBS.us1]: 100 })).hub).toBe(HUBS.eu2);
  });

  it('breaks ties by the weighted rendezvous hash over the tied hubs: the hashed choice among them', () => {
    const allocator = allocatorFor(capped);
    const tiedPair = [HUBS.eu1, HUBS.us1];
    const hashedPair = allocatorFor(capped, 'hashed');
    const counts = fresh({ [HUBS.eu1]: 2000, [HUBS.eu2]: 2500, [HUBS.us1]: 2000 });
    for (let i = 0; i < 200; i++) {
      const id = `sensor-${i}`;
      const decision = decide(allocator, counts, id);
      expect(decision.reason).toBe(LEAST_LOADED_REASONS.tied);
      expect(decision.hub).toBe(decide(hashedPair, undefined, id, tiedPair).hub);
      expect(decide(allocator, counts, id.toUpperCase()).hub).toBe(decision.hub);
    }
  });

  it('spreads many devices over tied hubs by the hash, following weights', () => {
    const allocator = allocatorFor({
      eu1: { hostName: HUBS.eu1 },
      eu2: { hostName: HUBS.eu2 },
      us1: { hostName: HUBS.us1, weight: 2 },
    });
    const counts = fresh({ [HUBS.eu1]: 0, [HUBS.eu2]: 0, [HUBS.us1]: 0 });
    const tally = new Map<string, number>();
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const hub = decide(allocator, counts, `w-${i}`).hub!;
      tally.set(hub, (tally.get(hub) ?? 0) + 1);
    }
    expect(tally.get(HUBS.eu1)! / n).toBeCloseTo(0.25, 1);
    expect(tally.get(HUBS.eu2)! / n).toBeCloseTo(0.25, 1);
    expect(tally.get(HUBS.us1)! / n).toBeCloseTo(0.5, 1);
  });

  it('levels hubs when every assignment is counted', () => {
    const allocator = allocatorFor(capped);
    const counts = fresh({ [HUBS.eu1]: 300, [HUBS.eu2]: 0, [HUBS.us1]: 100 });
    for (let i = 0; i < 1100; i++) {
      const hub = decide(allocator, counts, `fleet-${i}`).hub!.toLowerCase();
      counts.devices.set(hub, counts.devices.get(hub)! + 1);
    }
    expect([...counts.devices.values()]).toEqual([500, 500, 500]);
  });

  it('ranks a hub without a count after every counted hub with room', () => {
    const allocator = allocatorFor(capped);
    // us1 has no count: it may be the fullest; ranked as empty it would take every device.
    const decision = decide(allocator, fresh({ [HUBS.eu1]: 5999, [HUBS.eu2]: 6000 }));
    expect(decision.hub).toBe(HUBS.eu1);
    expect(decision.reason).toBe(
      `${LEAST_LOADED_REASONS.lowest}; not offered: ${HUBS.eu2} (full: maxDevices 6000); maxDevices not checked for ${HUBS.us1} (no device count)`,
    );
    const onlyUncounted = decide(allocator, fresh({ [HUBS.eu1]: 6000, [HUBS.eu2]: 6000 }));
    expect(onlyUncounted.hub).toBe(HUBS.us1);
    expect(onlyUncounted.reason).toMatch(new RegExp(`^${escape(LEAST_LOADED_REASONS.uncounted)}; `));
  });

  it('hashes, as the hashed strategy does, when the counts are stale or absent, and says why', () => {
    const allocator = allocatorFor(capped);
    const hashed = allocatorFor(capped, 'hashed');
    const stale = hubLoadOf([[HUBS.eu1, 0]], NOW - 400_000, FIVE_MINUTES);
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) {
      expect(decide(allocator, stale, id).hub).toBe(decide(hashed, undefined, id).hub);
    }
    expect(decide(allocator, stale).reason).toBe(
      'leastLoaded: hub device counts are 400 s old (more than 300 s): weighted rendezvous hash instead; maxDevices not checked',
    );
    const uncapped = allocatorFor({});
    expect(decide(uncapped).reason).toBe(
      'leastLoaded: no hub device counts yet: weighted rendezvous hash instead',
    );
    expect(decide(uncapped, fresh({})).reason).toBe(LEAST_LOADED_REASONS.uncounted);
  });

  it('answers with the host name exactly as DPS sent it, and leaves the view alone', () => {
    const sent = ['HUB-EU-1.azure-devices.net', 'Hub-Eu-2.Azure-Devices.net'];
    const counts = fresh({ [HUBS.eu1]: 10, [HUBS.eu2]: 5 });
    expect(decide(allocatorFor(capped), counts, 'x', sent).hub).toBe('Hub-Eu-2.Azure-Devices.net');
    expect([...counts.devices]).toEqual([
      [HUBS.eu1, 10],
      [HUBS.eu2, 5],
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
