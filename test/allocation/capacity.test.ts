// maxDevices and drain: which candidates may take a new device, and what the decision says about the others.
import { compilePolicy, FALLBACK_RULE_NAME, type Decision } from '../../src/allocation/engine';
import { hubLoadOf, type HubLoadView } from '../../src/allocation/hub-load';
import { parsePolicy } from '../../src/allocation/policy';
import type { PolicyInput } from '../../src/allocation/policy-schema';
import type { AllocationRequest } from '../../src/allocation/request';
import { deviceRequest, HUBS } from './support/builders';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const FIVE_MINUTES = 300_000;

function decide(policy: PolicyInput, request: AllocationRequest, hubLoad?: HubLoadView): Decision {
  return compilePolicy(parsePolicy(policy, 'test')).decide(request, { now: NOW, hubLoad });
}

/** Counts read just now, valid for five minutes. */
const fresh = (counts: Record<string, number>) => hubLoadOf(Object.entries(counts), NOW, FIVE_MINUTES);

const linkedHubs = [HUBS.eu1, HUBS.eu2, HUBS.us1];
type RuleInput = NonNullable<PolicyInput['rules']>[number];
const staticPolicy = (hubs: PolicyInput['hubs'], rule: Partial<RuleInput> = {}): PolicyInput => ({
  hubs,
  rules: [{ name: 'r', hubs: ['eu1', 'eu2', 'us1'], strategy: { type: 'static' }, ...rule }],
});

describe('maxDevices', () => {
  const capped = staticPolicy({
    eu1: { hostName: HUBS.eu1, maxDevices: 6000 },
    eu2: { hostName: HUBS.eu2, maxDevices: 6000 },
    us1: { hostName: HUBS.us1 },
  });
  const request = deviceRequest({ linkedHubs });

  it('a hub with maxDevices devices or more is not a candidate; one below is', () => {
    const full = decide(capped, request, fresh({ [HUBS.eu1]: 6000, [HUBS.eu2]: 5999 }));
    expect(full).toMatchObject({ outcome: 'assigned', hub: HUBS.eu2, candidates: [HUBS.eu2, HUBS.us1] });
    expect(full.reason).toBe(
      `static: first candidate in preference order; not offered: ${HUBS.eu1} (full: maxDevices 6000)`,
    );
    expect(decide(capped, request, fresh({ [HUBS.eu1]: 7000, [HUBS.eu2]: 6000 })).hub).toBe(HUBS.us1);
    expect(decide(capped, request, fresh({ [HUBS.eu1]: 0, [HUBS.eu2]: 0 })).reason).toBe(
      'static: first candidate in preference order',
    );
  });

  it('matches hubs whatever the letter case of the policy, linkedHubs and the counts', () => {
    const policy = staticPolicy({
      eu1: { hostName: HUBS.eu1.toUpperCase(), maxDevices: 10 },
      eu2: { hostName: HUBS.eu2 },
      us1: { hostName: HUBS.us1 },
    });
    const mixed = deviceRequest({ linkedHubs: ['Hub-EU-1.azure-devices.net', HUBS.eu2] });
    const decision = decide(policy, mixed, fresh({ 'HUB-eu-1.Azure-Devices.net': 10 }));
    expect(decision).toMatchObject({ hub: HUBS.eu2, candidates: [HUBS.eu2] });
    expect(decision.reason).toContain('not offered: Hub-EU-1.azure-devices.net (full: maxDevices 10)');
  });

  it('is not checked without usable counts, and the reason says why', () => {
    const none = decide(capped, request);
    expect(none.hub).toBe(HUBS.eu1);
    expect(none.reason).toBe(
      'static: first candidate in preference order; maxDevices not checked: no hub device counts yet',
    );
    const stale = hubLoadOf([[HUBS.eu1, 9000]], NOW - 400_000, FIVE_MINUTES);
    expect(decide(capped, request, stale).reason).toBe(
      'static: first candidate in preference order; maxDevices not checked: hub device counts are 400 s old (more than 300 s)',
    );
  });

  it('a capped hub missing from the counts stays a candidate, and the reason says its cap was not checked', () => {
    const decision = decide(capped, request, fresh({ [HUBS.eu2]: 100 }));
    expect(decision.hub).toBe(HUBS.eu1);
    expect(decision.reason).toBe(
      `static: first candidate in preference order; maxDevices not checked for ${HUBS.eu1} (no device count)`,
    );
  });

  it('a sticky reprovisioned device keeps its full hub: it is counted there already', () => {
    const reprovisioned = deviceRequest({ linkedHubs, currentHub: HUBS.eu1 });
    const decision = decide(capped, reprovisioned, fresh({ [HUBS.eu1]: 6000 }));
    expect(decision).toMatchObject({
      hub: HUBS.eu1,
      reason: 'sticky: reprovisioned device keeps its current hub',
    });
  });

  it('gives the same answer for the same counts, and a new one when they change', () => {
    const allocator = compilePolicy(parsePolicy(capped, 'test'));
    const view = fresh({ [HUBS.eu1]: 5999 });
    expect(allocator.decide(request, { now: NOW, hubLoad: view }).hub).toBe(HUBS.eu1);
    view.devices.set(HUBS.eu1, 6000);
    expect(allocator.decide(request, { now: NOW, hubLoad: view }).hub).toBe(HUBS.eu2);
    view.devices.set(HUBS.eu1, 10);
    expect(allocator.decide(request, { now: NOW, hubLoad: view }).hub).toBe(HUBS.eu1);
  });
});

describe('drain', () => {
  const hubs = {
    eu1: { hostName: HUBS.eu1, drain: true },
    eu2: { hostName: HUBS.eu2 },
    us1: { hostName: HUBS.us1 },
  };

  it('a draining hub takes no new device, without any counts', () => {
    const decision = decide(staticPolicy(hubs), deviceRequest({ linkedHubs }));
    expect(decision).toMatchObject({ hub: HUBS.eu2, candidates: [HUBS.eu2, HUBS.us1] });
    expect(decision.reason).toBe(
      `static: first candidate in preference order; not offered: ${HUBS.eu1} (draining)`,
    );
  });

  it('moves a reprovisioned device off a draining hub, even under sticky', () => {
    const reprovisioned = deviceRequest({ linkedHubs, currentHub: HUBS.eu1.toUpperCase() });
    const decision = decide(staticPolicy(hubs, { reprovision: 'sticky' }), reprovisioned);
    expect(decision.hub).toBe(HUBS.eu2);
    expect(decision.reason).toBe(
      `sticky: current hub ${HUBS.eu1} is draining, so the device moves; static: first candidate in preference order; not offered: ${HUBS.eu1} (draining)`,
    );
  });

  it("onDrainingHub 'keep' lets sticky keep the device there; new devices still avoid the hub", () => {
    const keep = staticPolicy(hubs, { reprovision: 'sticky', onDrainingHub: 'keep' });
    const kept = decide(keep, deviceRequest({ linkedHubs, currentHub: HUBS.eu1 }));
    expect(kept).toMatchObject({
      hub: HUBS.eu1,
      reason: 'sticky: reprovisioned device keeps its current hub, which is draining (onDrainingHub: keep)',
    });
    expect(decide(keep, deviceRequest({ linkedHubs })).hub).toBe(HUBS.eu2);
  });

  it("onDrainingHub 'keep' from defaults; under reallocate the strategy still avoids the draining hub", () => {
    const fromDefaults: PolicyInput = { ...staticPolicy(hubs), defaults: { onDrainingHub: 'keep' } };
    const reprovisioned = deviceRequest({ linkedHubs, currentHub: HUBS.eu1 });
    expect(decide(fromDefaults, reprovisioned).hub).toBe(HUBS.eu1);
    const reallocate = staticPolicy(hubs, { reprovision: 'reallocate', onDrainingHub: 'keep' });
    expect(decide(reallocate, reprovisioned).hub).toBe(HUBS.eu2);
  });

  it('the fallback drains too', () => {
    const policy: PolicyInput = {
      hubs,
      fallback: { action: 'allocate', hubs: ['eu1', 'us1'], strategy: { type: 'static' } },
    };
    const decision = decide(policy, deviceRequest({ linkedHubs, currentHub: HUBS.eu1 }));
    expect(decision).toMatchObject({ rule: FALLBACK_RULE_NAME, hub: HUBS.us1 });
  });
});

describe('every candidate full or draining: onNoCandidate', () => {
  const hubs = {
    eu1: { hostName: HUBS.eu1, drain: true },
    eu2: { hostName: HUBS.eu2, maxDevices: 6000 },
    us1: { hostName: HUBS.us1 },
  };
  const counts = fresh({ [HUBS.eu2]: 6000 });
  const rules = (onNoCandidate?: 'reject' | 'nextRule' | 'fallback'): PolicyInput => ({
    hubs,
    rules: [
      { name: 'eu', hubs: ['eu1', 'eu2'], onNoCandidate },
      { name: 'us', hubs: ['us1'] },
    ],
    fallback: { action: 'allocate', hubs: ['us1'] },
  });
  const request = deviceRequest({ linkedHubs });
  const why = `every candidate is full or draining (${HUBS.eu1}: draining; ${HUBS.eu2}: full, 6000 devices of maxDevices 6000)`;

  it('reject (default) names each hub and why', () => {
    expect(decide(rules(), request, counts)).toMatchObject({
      outcome: 'rejected',
      rule: 'eu',
      reason: `rule 'eu': ${why}`,
    });
  });

  it('nextRule and fallback hand the device on', () => {
    expect(decide(rules('nextRule'), request, counts)).toMatchObject({ rule: 'us', hub: HUBS.us1 });
    const fallback = decide(rules('fallback'), request, counts);
    expect(fallback).toMatchObject({ rule: FALLBACK_RULE_NAME, hub: HUBS.us1 });
    expect(fallback.reason).toContain(`rule 'eu': ${why}; `);
  });

  it('a fallback with no room rejects and says why for both', () => {
    const policy: PolicyInput = {
      hubs,
      rules: [{ name: 'eu', hubs: ['eu1'], onNoCandidate: 'fallback' }],
      fallback: { action: 'allocate', hubs: ['eu2'] },
    };
    expect(decide(policy, request, counts).reason).toBe(
      `rule 'eu': every candidate is full or draining (${HUBS.eu1}: draining); fallback: every candidate is full or draining (${HUBS.eu2}: full, 6000 devices of maxDevices 6000)`,
    );
  });

  it('without usable counts only drain applies: the capped hub takes the device', () => {
    expect(decide(rules(), request)).toMatchObject({ rule: 'eu', hub: HUBS.eu2 });
  });
});
