// `policy simulate`: runs the real allocator over many synthetic devices and tallies where they land,
// optionally for a second scenario (another policy, or changed linked hubs) to show which devices would move.
import { compilePolicy, FALLBACK_RULE_NAME, type Allocator, type Decision } from '../../allocation/engine';
import type { HubLoadView } from '../../allocation/hub-load';
import { hubDirectory } from '../../allocation/hub-selection';
import type { Policy } from '../../allocation/policy-schema';
import { allocationRequestSchema, type AllocationRequest } from '../../allocation/request';
import { answerAllocationRequest, type WebhookOptions } from '../../allocation/webhook';
import { UsageError } from '../shared/usage-error';
import type { DeviceIds } from './device-ids';
import { simulatedHubLoad, type HubCounts } from './hub-load-option';
import type { CertificateFleet } from './simulated-certificates';

export interface Scenario {
  /** Where the policy came from, for reports (a file name). */
  policySource: string;
  policy: Policy;
  linkedHubs: readonly string[];
}

export interface SimulationInput {
  ids: DeviceIds;
  /** Enrollment group id of the synthetic group (symmetric key, or X.509 with `certificates`) of every device. */
  groupId: string;
  /** X.509 devices with these certificates; absent: symmetric-key devices. */
  certificates?: CertificateFleet;
  /** Evaluation time, ms since the epoch (certificate expiry); default now. */
  now?: number;
  /** Device payload sent by every device. */
  payload?: Record<string, unknown>;
  before: Scenario;
  /** A second scenario for the same devices: another policy and/or other linked hubs. */
  after?: Scenario;
  webhook: WebhookOptions;
  /**
   * Devices per hub (lower-case host name) before the fleet lands (--hub-load): each scenario decides with these
   * counts plus its own assignments so far. A linked hub not listed starts at 0. Absent: no counts at all, as
   * allocate before its first read (maxDevices unchecked, leastLoaded hashes).
   */
  hubLoad?: HubCounts;
}

export interface HubTally {
  hub: string;
  /** The hub's alias in the scenario's policy. */
  alias: string | null;
  /** The hub's weight in the scenario's policy (1 when the policy does not know the hub). */
  weight: number;
  linked: boolean;
  devices: number;
  share: number;
  /** Share that hub weights give it among hashed choices; null where another strategy decides. */
  expectedShare: number | null;
}

export interface ScenarioResult {
  policySource: string;
  linkedHubs: string[];
  /** Every hub of either scenario, in linked order (the first scenario's hubs first). */
  hubs: HubTally[];
  assigned: number;
  rejected: { devices: number; share: number; reasons: { reason: string; devices: number }[] };
  /** Devices decided by each rule (assigned or rejected); '(no rule)' when the fallback rejected. */
  rules: { rule: string; devices: number }[];
  /** Per certificate organisation (--cert-orgs): where its devices went; null without organisations. */
  organisations: OrganisationTally[] | null;
  /** Per linked hub, its device count before and after the fleet landed; null without --hub-load. */
  hubLoad: HubLoadTally[] | null;
  /** The policy has maxDevices, drain or leastLoaded: what it decides depends on the counts given. */
  capacityAware: boolean;
}

export interface HubLoadTally {
  hub: string;
  /** Devices before the simulated fleet (--hub-load; 0 for a linked hub it does not list). */
  start: number;
  /** Devices this scenario assigned to the hub. */
  added: number;
  end: number;
  maxDevices: number | null;
  /** end / maxDevices; null without maxDevices. */
  fill: number | null;
  draining: boolean;
}

export interface OrganisationTally {
  organisation: string;
  devices: number;
  rejected: number;
  /** Every hub of the result, in its order. */
  hubs: { hub: string; devices: number }[];
}

export interface Comparison {
  /** Devices assigned in both scenarios, to different hubs. */
  moved: number;
  movedShare: number;
  moves: { from: string; to: string; devices: number }[];
  newlyRejected: { from: string; devices: number }[];
  newlyAssigned: { to: string; devices: number }[];
}

export interface SimulationResult {
  devices: number;
  ids: string;
  groupId: string;
  payload: Record<string, unknown> | null;
  /** The certificates of an X.509 fleet (their description); null for symmetric-key devices. */
  certificates: string | null;
  /** When certificate expiry was judged (ISO 8601). */
  evaluatedAt: string;
  before: ScenarioResult;
  after: ScenarioResult | null;
  comparison: Comparison | null;
}

export const NO_RULE = '(no rule)';
const MAX_REASONS = 10;
const REJECTED = -1;

export function simulate(input: SimulationInput): SimulationResult {
  const now = input.now ?? Date.now();
  const hubs = [...new Set([...input.before.linkedHubs, ...(input.after?.linkedHubs ?? [])])];
  const hubIndex = new Map(hubs.map((hub, i) => [hub, i]));
  const before = new ScenarioRun(input, input.before, hubIndex, now);
  const after = input.after ? new ScenarioRun(input, input.after, hubIndex, now) : undefined;
  const moves = hubs.map(() => new Array<number>(hubs.length).fill(0));
  const newlyRejected = new Array<number>(hubs.length).fill(0);
  const newlyAssigned = new Array<number>(hubs.length).fill(0);

  for (let i = 0; i < input.ids.count; i++) {
    const id = input.ids.idAt(i);
    const from = before.run(id, i);
    if (!after) continue;
    const to = after.run(id, i);
    if (from === to) continue;
    if (to === REJECTED) newlyRejected[from]!++;
    else if (from === REJECTED) newlyAssigned[to]!++;
    else moves[from]![to]!++;
  }

  const total = input.ids.count;
  let comparison: Comparison | null = null;
  if (after) {
    const moved = moves.flat().reduce((sum, n) => sum + n, 0);
    comparison = {
      moved,
      movedShare: shareOf(moved, total),
      moves: moves.flatMap((row, f) =>
        row.flatMap((devices, t) => (devices > 0 ? [{ from: hubs[f]!, to: hubs[t]!, devices }] : [])),
      ),
      newlyRejected: newlyRejected.flatMap((devices, f) =>
        devices > 0 ? [{ from: hubs[f]!, devices }] : [],
      ),
      newlyAssigned: newlyAssigned.flatMap((devices, t) => (devices > 0 ? [{ to: hubs[t]!, devices }] : [])),
    };
  }
  return {
    devices: total,
    ids: input.ids.description,
    groupId: input.groupId,
    payload: input.payload ?? null,
    certificates: input.certificates?.description ?? null,
    evaluatedAt: new Date(now).toISOString(),
    before: before.result(hubs, total),
    after: after ? after.result(hubs, total) : null,
    comparison,
  };
}

/** One scenario: a compiled policy, one reusable request, and the tallies of its decisions. */
class ScenarioRun {
  private readonly allocator: Allocator;
  private readonly request: AllocationRequest;
  /** The request's x509.certificateInfo, rewritten for each device of an X.509 fleet. */
  private readonly certificateInfo: Record<string, unknown> | undefined;
  private readonly devicesPerHub: number[];
  /** Organisation -> devices per hub index, then (last) rejected devices. */
  private readonly perOrganisation = new Map<string, number[]>();
  private rejected = 0;
  private readonly reasons = new Map<string, number>();
  private readonly rules = new Map<string, number>();
  /** The counts decisions read, updated with every assignment; undefined without --hub-load. */
  private readonly hubLoad: (HubLoadView & { devices: Map<string, number> }) | undefined;
  /** Lower-case host name per hub index: the keys of the counts. */
  private readonly hubKeys: string[];
  /** Per (rule, strategy, candidates): its candidates and assigned devices, the base of expected shares. */
  private readonly choices = new Map<
    string,
    { strategy: string; candidates: readonly string[]; devices: number }
  >();

  constructor(
    private readonly input: SimulationInput,
    private readonly scenario: Scenario,
    private readonly hubIndex: ReadonlyMap<string, number>,
    private readonly now: number,
  ) {
    this.allocator = compilePolicy(scenario.policy);
    this.request = templateRequest(this.allocator, input, scenario.linkedHubs, now);
    const x509 = this.request.deviceRuntimeContext.x509 as {
      certificateInfo?: Record<string, unknown>;
    } | null;
    this.certificateInfo = x509?.certificateInfo;
    this.devicesPerHub = new Array<number>(hubIndex.size).fill(0);
    this.hubKeys = [...hubIndex.keys()].map((hub) => hub.toLowerCase());
    this.hubLoad = input.hubLoad ? simulatedHubLoad(input.hubLoad, scenario.linkedHubs, now) : undefined;
    for (const organisation of input.certificates?.organisations ?? []) {
      this.perOrganisation.set(organisation, new Array<number>(hubIndex.size + 1).fill(0));
    }
  }

  /** Decides device `index`; returns the index of its hub, or REJECTED. */
  run(registrationId: string, index: number): number {
    // The engine reads the request afresh on every call and keeps no reference to it: one object serves all.
    this.request.deviceRuntimeContext.registrationId = registrationId;
    if (this.certificateInfo) this.input.certificates?.fill(this.certificateInfo, index, registrationId);
    const decision = this.allocator.decide(this.request, { now: this.now, hubLoad: this.hubLoad });
    const rule = decision.rule ?? NO_RULE;
    this.rules.set(rule, (this.rules.get(rule) ?? 0) + 1);
    this.countChoice(decision, rule);
    const organisation = this.input.certificates?.organisationAt(index);
    const tally = organisation === undefined ? undefined : this.perOrganisation.get(organisation);
    if (decision.outcome === 'rejected' || decision.hub === undefined) {
      this.rejected++;
      if (tally) tally[this.hubIndex.size]!++;
      const reason = decision.reason.replaceAll(`'${registrationId}'`, "'<id>'");
      this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      return REJECTED;
    }
    const hub = this.hubIndex.get(decision.hub)!;
    this.devicesPerHub[hub]!++;
    if (this.hubLoad) {
      const key = this.hubKeys[hub]!;
      this.hubLoad.devices.set(key, (this.hubLoad.devices.get(key) ?? 0) + 1);
    }
    if (tally) tally[hub]!++;
    return hub;
  }

  /**
   * Rejected decisions count too (with no devices): their strategy could have chosen among their candidates.
   * Candidates are part of the key: a hub that drains or fills up leaves the choice for the devices after it.
   */
  private countChoice(decision: Decision, rule: string): void {
    if (decision.strategy === undefined) return;
    const key = `${rule}\u0000${decision.strategy}\u0000${decision.candidates.join('\u0000')}`;
    const assigned = decision.outcome === 'assigned' ? 1 : 0;
    const choice = this.choices.get(key);
    if (choice) choice.devices += assigned;
    else
      this.choices.set(key, {
        strategy: decision.strategy,
        candidates: decision.candidates,
        devices: assigned,
      });
  }

  result(hubs: readonly string[], total: number): ScenarioResult {
    const directory = hubDirectory(this.scenario.policy.hubs);
    const linked = new Set(this.scenario.linkedHubs);
    const expected = this.expectedDevices(directory);
    const ruleOrder = [...this.scenario.policy.rules.map((r) => r.name), FALLBACK_RULE_NAME, NO_RULE];
    return {
      policySource: this.scenario.policySource,
      linkedHubs: [...this.scenario.linkedHubs],
      hubs: hubs.map((hub, i) => {
        const info = directory(hub);
        const devices = this.devicesPerHub[i] ?? 0;
        const expectedDevices = linked.has(hub) ? expected.get(hub) : undefined;
        return {
          hub,
          alias: info.alias ?? null,
          weight: info.weight,
          linked: linked.has(hub),
          devices,
          share: shareOf(devices, total),
          expectedShare: expectedDevices === undefined ? null : shareOf(expectedDevices, total),
        };
      }),
      assigned: total - this.rejected,
      rejected: {
        devices: this.rejected,
        share: shareOf(this.rejected, total),
        reasons: [...this.reasons]
          .map(([reason, devices]) => ({ reason, devices }))
          .sort((a, b) => b.devices - a.devices || a.reason.localeCompare(b.reason))
          .slice(0, MAX_REASONS),
      },
      rules: ruleOrder.flatMap((rule) => {
        const devices = this.rules.get(rule);
        return devices ? [{ rule, devices }] : [];
      }),
      organisations: this.input.certificates?.organisations.length
        ? [...this.perOrganisation].map(([organisation, counts]) => {
            const rejected = counts[hubs.length] ?? 0;
            const perHub = hubs.map((hub, i) => ({ hub, devices: counts[i] ?? 0 }));
            const assigned = perHub.reduce((sum, entry) => sum + entry.devices, 0);
            return { organisation, devices: assigned + rejected, rejected, hubs: perHub };
          })
        : null,
      hubLoad: this.hubLoadTallies(directory),
      capacityAware: isCapacityAware(this.scenario.policy),
    };
  }

  private hubLoadTallies(directory: ReturnType<typeof hubDirectory>): HubLoadTally[] | null {
    const view = this.hubLoad;
    if (!view) return null;
    return this.scenario.linkedHubs.map((hub) => {
      const index = this.hubIndex.get(hub)!;
      const added = this.devicesPerHub[index] ?? 0;
      const end = view.devices.get(this.hubKeys[index]!) ?? 0;
      const { maxDevices, draining } = directory(hub);
      return {
        hub,
        start: end - added,
        added,
        end,
        maxDevices: maxDevices ?? null,
        fill: maxDevices === undefined ? null : end / maxDevices,
        draining,
      };
    });
  }

  /**
   * Devices each hub should get from its weights: every hashed choice among candidates C gives hub h
   * weight(h) / weight(C) of its devices. A hub that any other strategy may choose has no expectation.
   */
  private expectedDevices(directory: ReturnType<typeof hubDirectory>): Map<string, number | undefined> {
    const choices = [...this.choices.values()];
    const unweighted = new Set(choices.filter((c) => c.strategy !== 'hashed').flatMap((c) => c.candidates));
    const expected = new Map<string, number | undefined>(
      this.scenario.linkedHubs.map((hub) => [hub, unweighted.has(hub) ? undefined : 0]),
    );
    for (const { strategy, candidates, devices } of choices) {
      if (strategy !== 'hashed') continue;
      const totalWeight = candidates.reduce((sum, hub) => sum + directory(hub).weight, 0);
      for (const hub of candidates) {
        const sofar = expected.get(hub);
        if (sofar !== undefined) expected.set(hub, sofar + (devices * directory(hub).weight) / totalWeight);
      }
    }
    return expected;
  }
}

/** The request every simulated device sends, checked by the webhook itself: its 400 is the error shown. */
function templateRequest(
  allocator: Allocator,
  input: SimulationInput,
  linkedHubs: readonly string[],
  now: number,
): AllocationRequest {
  const body = {
    enrollmentGroup: {
      enrollmentGroupId: input.groupId,
      attestation: input.certificates ? x509GroupAttestation(input.certificates) : { type: 'symmetricKey' },
      capabilities: { iotEdge: false },
      provisioningStatus: 'enabled',
      allocationPolicy: 'custom',
      iotHubs: [...linkedHubs],
    },
    deviceRuntimeContext: {
      registrationId: 'simulated-device',
      ...(input.certificates
        ? { x509: x509RuntimeContext(input.certificates, input.groupId) }
        : { symmetricKey: {} }),
      ...(input.payload === undefined ? {} : { payload: input.payload }),
    },
    linkedHubs: [...linkedHubs],
  };
  const text = JSON.stringify(body);
  const answer = answerAllocationRequest(allocator, text, input.webhook, now);
  if (answer.log.outcome === 'invalid-request') {
    throw new UsageError(
      `the simulated request is invalid; the webhook would answer 400: ${answer.log.reason}`,
    );
  }
  return allocationRequestSchema.parse(JSON.parse(text));
}

/** The group's signing certificate, as the enrollment DPS echoes describes it (docs/dps-contract.md §2.3). */
function x509GroupAttestation(certificates: CertificateFleet) {
  return {
    type: 'x509',
    x509: { signingCertificates: { primary: { info: { subjectName: certificates.issuer, version: 3 } } } },
  };
}

/** deviceRuntimeContext.x509 in the shape the project reads (docs/dps-contract.md §1.2); the info of device 0. */
function x509RuntimeContext(certificates: CertificateFleet, groupId: string) {
  const certificateInfo: Record<string, unknown> = {};
  certificates.fill(certificateInfo, 0, 'simulated-device');
  return {
    certificateInfo,
    enrollmentGroupId: groupId,
    signingCertificateInfo: {
      subjectName: certificates.issuer,
      issuerName: 'CN=Simulated Root CA',
      version: 3,
    },
  };
}

function isCapacityAware(policy: Policy): boolean {
  const hubs = Object.values(policy.hubs);
  if (hubs.some((hub) => hub.maxDevices !== undefined || hub.drain === true)) return true;
  const strategies = [
    policy.defaults.strategy,
    ...policy.rules.map((rule) => rule.strategy),
    policy.fallback.action === 'allocate' ? policy.fallback.strategy : undefined,
  ];
  return strategies.some((strategy) => strategy?.type === 'leastLoaded');
}

function shareOf(part: number, total: number): number {
  return total === 0 ? 0 : part / total;
}
