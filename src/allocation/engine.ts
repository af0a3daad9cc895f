// The policy engine: a validated policy compiled once into an allocator that decides each request.
import { compileCapacity, type Capacity, type CountsNow } from './capacity';
import { requestCertificate } from './device-certificate';
import { hubLoadUnusable, NO_HUB_LOAD, type HubLoadView } from './hub-load';
import { compileHubSelector, hubDirectory, type HubInfo, type HubSelector } from './hub-selection';
import { compileMatch, type Condition, type MatchContext } from './matchers';
import type { Fallback, InitialTwinTemplate, Policy, Rule, Strategy } from './policy-schema';
import { attestationTypeOf, type AllocationRequest, type AllocationResponse } from './request';
import { compileStrategy, type StrategyEnvironment, type StrategyFn } from './strategies';
import { compileTemplate, type CompiledTemplate, type TemplateContext } from './templates';
import { checkTwinCollection, TWIN_LIMITS } from './twin-limits';

export const FALLBACK_RULE_NAME = '(fallback)';

export interface RuleMiss {
  rule: string;
  why: string;
}

export interface Decision {
  outcome: 'assigned' | 'rejected';
  registrationId: string;
  enrollment: { kind: 'group' | 'individual'; id: string };
  assignment: 'initial' | 'reprovision';
  /** The rule that decided; FALLBACK_RULE_NAME when the fallback did; undefined when nothing did. */
  rule: string | undefined;
  strategy: string | undefined;
  candidates: readonly string[];
  hub: string | undefined;
  reason: string;
  /** Rules passed over before the deciding one, and why (only when asked to explain). */
  skippedRules?: RuleMiss[];
  /** The webhook answer, when assigned. */
  response?: AllocationResponse;
}

export interface DecideOptions {
  /** Record why earlier rules did not decide (Decision.skippedRules). */
  explain?: boolean;
  /** Evaluation time in ms since the epoch (certificate expiry conditions, age of hubLoad); default Date.now(). */
  now?: number;
  /**
   * Devices per hub, for maxDevices and leastLoaded; default NO_HUB_LOAD. Unusable counts (none, or older than
   * maxAgeMs) leave maxDevices unchecked and make leastLoaded hash; drain applies without counts.
   */
  hubLoad?: HubLoadView;
}

export interface Allocator {
  decide(request: AllocationRequest, options?: DecideOptions): Decision;
}

type NoCandidate = 'reject' | 'fallback' | 'nextRule';

interface CompiledAllocation {
  name: string;
  conditions: Condition[];
  selectHubs: HubSelector;
  hubSelectors: readonly string[] | undefined;
  strategyName: Strategy['type'];
  strategy: StrategyFn;
  reprovision: 'sticky' | 'reallocate';
  onDrainingHub: 'move' | 'keep';
  /** The strategy's own reason says when the counts are unusable (leastLoaded). */
  strategySaysCountsUnusable: boolean;
  onNoCandidate: NoCandidate;
  twin: { tags?: CompiledTemplate; desired?: CompiledTemplate } | undefined;
  payload: CompiledTemplate | undefined;
}

export function compilePolicy(policy: Policy): Allocator {
  const directory = hubDirectory(policy.hubs);
  const env: StrategyEnvironment = { hubs: policy.hubs, regions: policy.regions, directory };
  const capacity = compileCapacity(Object.values(policy.hubs), directory);
  const defaults = {
    strategy: policy.defaults.strategy ?? ({ type: 'hashed' } as const),
    reprovision: policy.defaults.reprovision ?? ('sticky' as const),
    onDrainingHub: policy.defaults.onDrainingHub ?? ('move' as const),
    onNoCandidate: policy.defaults.onNoCandidate ?? ('reject' as const),
  };
  const compileAllocation = (name: string, source: Rule | Extract<Fallback, { action: 'allocate' }>) => {
    const strategy = source.strategy ?? defaults.strategy;
    const compiled: CompiledAllocation = {
      name,
      conditions: 'match' in source ? compileMatch(source.match) : [],
      selectHubs: compileHubSelector(source.hubs, policy.hubs),
      hubSelectors: source.hubs,
      strategyName: strategy.type,
      strategy: compileStrategy(strategy, env),
      reprovision: source.reprovision ?? defaults.reprovision,
      onDrainingHub: source.onDrainingHub ?? defaults.onDrainingHub,
      strategySaysCountsUnusable: strategy.type === 'leastLoaded',
      onNoCandidate: 'name' in source ? (source.onNoCandidate ?? defaults.onNoCandidate) : 'reject',
      twin: compileTwin(source.initialTwin),
      payload: source.payload ? compileTemplate(source.payload) : undefined,
    };
    return compiled;
  };
  const rules = policy.rules.map((rule) => compileAllocation(rule.name, rule));
  const fallback =
    policy.fallback.action === 'allocate'
      ? compileAllocation(FALLBACK_RULE_NAME, policy.fallback)
      : undefined;
  const fallbackRejection = policy.fallback.action === 'reject' ? policy.fallback.message : undefined;
  const readsCounts =
    capacity.capped ||
    [...rules, ...(fallback ? [fallback] : [])].some(
      (allocation) => allocation.strategyName === 'leastLoaded',
    );
  const noCounts: CountsNow = { counts: undefined, unusable: undefined };
  let lastView: HubLoadView | undefined;
  let lastUsable = noCounts;
  let lastUnusable = noCounts;

  return {
    decide(request, options = {}) {
      const ctx = matchContextOf(request, options.now ?? Date.now());
      const base = baseDecision(request, ctx);
      const load = readsCounts ? countsNow(options.hubLoad ?? NO_HUB_LOAD, ctx.now) : noCounts;
      const skipped: RuleMiss[] | undefined = options.explain ? [] : undefined;
      const withSkipped = (decision: Decision): Decision =>
        skipped ? { ...decision, skippedRules: skipped } : decision;

      for (const rule of rules) {
        const failing = rule.conditions.find((condition) => !condition.test(ctx));
        if (failing) {
          skipped?.push({ rule: rule.name, why: failing.describeMismatch(ctx) });
          continue;
        }
        const decision = allocate(rule, request, ctx, base, load);
        if (!('noCandidate' in decision)) return withSkipped(decision);
        const why = decision.noCandidate;
        if (rule.onNoCandidate === 'nextRule') {
          skipped?.push({ rule: rule.name, why });
          continue;
        }
        if (rule.onNoCandidate === 'reject') {
          return withSkipped(rejected(base, rule, [], `rule '${rule.name}': ${why}`));
        }
        return withSkipped(decideFallback(request, ctx, base, load, `rule '${rule.name}': ${why}`));
      }
      return withSkipped(
        decideFallback(request, ctx, base, load, `no rule matches registration '${ctx.registrationId}'`),
      );
    },
  };

  function decideFallback(
    request: AllocationRequest,
    ctx: MatchContext,
    base: DecisionBase,
    load: CountsNow,
    why: string,
  ): Decision {
    if (!fallback) {
      return decisionOf(base, {
        outcome: 'rejected',
        rule: undefined,
        strategy: undefined,
        candidates: [],
        hub: undefined,
        reason: fallbackRejection ? `${fallbackRejection} (${why})` : why,
      });
    }
    const decision = allocate(fallback, request, ctx, base, load, why);
    if (!('noCandidate' in decision)) return decision;
    return rejected(base, fallback, [], `${why}; fallback: ${decision.noCandidate}`);
  }

  function allocate(
    rule: CompiledAllocation,
    request: AllocationRequest,
    ctx: MatchContext,
    base: DecisionBase,
    load: CountsNow,
    prefix?: string,
  ): Decision | NoCandidateFound {
    const selected = rule.selectHubs(request.linkedHubs);
    if (selected.length === 0) return { noCandidate: noCandidateReason(rule, request.linkedHubs) };
    const lead = prefix ? `${prefix}; ` : '';
    const sticky = stickyChoice(rule, selected, request, capacity);
    if (typeof sticky === 'object') {
      return assignTo(rule, request, ctx, base, directory, selected, sticky, lead);
    }
    let candidates = selected;
    let note = '';
    let candidateCounts: Float64Array | undefined;
    if (capacity.active) {
      const eligibility = capacity.eligible(selected, load, rule.strategySaysCountsUnusable);
      if (eligibility.hubs.length === 0) return { noCandidate: eligibility.note };
      candidates = eligibility.hubs;
      note = eligibility.note;
      candidateCounts = eligibility.counts;
    }
    const choice = rule.strategy({
      registrationKey: ctx.registrationId.toLowerCase(),
      candidates,
      payload: ctx.payload,
      hubCounts: load.counts,
      hubCountsUnusable: load.unusable,
      candidateCounts,
    });
    if ('reject' in choice)
      return rejected(base, rule, candidates, `${lead}rule '${rule.name}': ${choice.reject}${note}`);
    // A new choice object only when the reason grows: the common decision allocates nothing more.
    const chosen =
      sticky === undefined && note === ''
        ? choice
        : { hub: choice.hub, reason: `${sticky ?? ''}${choice.reason}${note}` };
    return assignTo(rule, request, ctx, base, directory, candidates, chosen, lead);
  }

  /** The counts of one decision; one object per view or reason, so a decision seldom allocates for them. */
  function countsNow(view: HubLoadView, now: number): CountsNow {
    const unusable = hubLoadUnusable(view, now);
    if (unusable !== undefined) {
      if (unusable !== lastUnusable.unusable) lastUnusable = { counts: undefined, unusable };
      return lastUnusable;
    }
    if (view !== lastView) {
      lastView = view;
      lastUsable = { counts: view.devices, unusable: undefined };
    }
    return lastUsable;
  }
}

const KEPT = 'sticky: reprovisioned device keeps its current hub';
const KEPT_DRAINING = `${KEPT}, which is draining (onDrainingHub: keep)`;

/**
 * A sticky reprovisioned device keeps its current hub while it is a candidate, full or not: the device is
 * counted there already. A draining hub keeps it only with onDrainingHub 'keep'. Returns the kept choice, the
 * reason prefix of a device moved off a draining hub, or undefined.
 */
function stickyChoice(
  rule: CompiledAllocation,
  candidates: readonly string[],
  request: AllocationRequest,
  capacity: Capacity,
): { hub: string; reason: string } | string | undefined {
  const current = request.deviceRuntimeContext.currentIotHubHostName?.toLowerCase();
  if (!current || rule.reprovision !== 'sticky') return undefined;
  const kept = candidates.find((hub) => hub.toLowerCase() === current);
  if (kept === undefined) return undefined;
  if (!capacity.active || !capacity.isDraining(kept)) return { hub: kept, reason: KEPT };
  if (rule.onDrainingHub === 'keep') return { hub: kept, reason: KEPT_DRAINING };
  return `sticky: current hub ${kept} is draining, so the device moves; `;
}

/** Why no hub of a rule can take the device: none is linked, or every linked one is full or draining. */
interface NoCandidateFound {
  noCandidate: string;
}

type DecisionBase = Pick<Decision, 'registrationId' | 'enrollment' | 'assignment'>;

function baseDecision(request: AllocationRequest, ctx: MatchContext): DecisionBase {
  const enrollmentId =
    request.enrollmentGroup?.enrollmentGroupId ??
    request.individualEnrollment?.registrationId ??
    ctx.registrationId;
  return {
    registrationId: ctx.registrationId,
    enrollment: { kind: ctx.enrollmentKind, id: enrollmentId },
    assignment: ctx.assignment,
  };
}

function matchContextOf(request: AllocationRequest, now: number): MatchContext {
  const runtime = request.deviceRuntimeContext;
  const enrollment = request.enrollmentGroup ?? request.individualEnrollment;
  return {
    registrationId: runtime.registrationId,
    enrollmentKind: request.enrollmentGroup ? 'group' : 'individual',
    enrollmentGroupId: request.enrollmentGroup?.enrollmentGroupId,
    attestation: attestationTypeOf(request),
    iotEdge: enrollment?.capabilities?.iotEdge === true,
    assignment: runtime.currentIotHubHostName ? 'reprovision' : 'initial',
    payload: runtime.payload ?? undefined,
    certificate: requestCertificate(request),
    now,
  };
}

/** The answer for a chosen hub: templates rendered and checked, or a rejection that says why. */
function assignTo(
  rule: CompiledAllocation,
  request: AllocationRequest,
  ctx: MatchContext,
  base: DecisionBase,
  directory: (hostName: string) => HubInfo,
  candidates: readonly string[],
  choice: { hub: string; reason: string },
  lead: string,
): Decision {
  // Hard invariant: the answer's hub is one of linkedHubs, exactly as DPS sent it.
  if (!request.linkedHubs.includes(choice.hub)) {
    return rejected(
      base,
      rule,
      candidates,
      `${lead}rule '${rule.name}' chose '${choice.hub}', which is not linked`,
    );
  }
  const templateContext: TemplateContext = {
    registrationId: ctx.registrationId,
    currentDeviceId: request.deviceRuntimeContext.currentDeviceId ?? undefined,
    currentIotHubHostName: request.deviceRuntimeContext.currentIotHubHostName ?? undefined,
    enrollmentGroupId: ctx.enrollmentGroupId,
    hub: choice.hub,
    hubAlias: directory(choice.hub).alias,
    rule: rule.name,
    payload: ctx.payload,
    certificate: ctx.certificate,
  };
  const response: AllocationResponse = { iotHubHostName: choice.hub };
  const problems: string[] = [];
  if (rule.twin) {
    const { tags, desired } = rule.twin;
    const initialTwin: NonNullable<AllocationResponse['initialTwin']> = {};
    // Templates without placeholders were checked against the twin limits when the policy was loaded.
    if (tags) {
      initialTwin.tags = tags.render(templateContext);
      if (!tags.isStatic) {
        problems.push(
          ...describe(checkTwinCollection(initialTwin.tags, 'initialTwin.tags', TWIN_LIMITS.tagsBytes)),
        );
      }
    }
    if (desired) {
      const rendered = desired.render(templateContext);
      initialTwin.properties = { desired: rendered };
      if (!desired.isStatic) {
        const where = 'initialTwin.properties.desired';
        problems.push(...describe(checkTwinCollection(rendered, where, TWIN_LIMITS.desiredBytes)));
      }
    }
    response.initialTwin = initialTwin;
  }
  if (rule.payload) response.payload = rule.payload.render(templateContext);
  if (problems.length > 0) {
    return rejected(base, rule, candidates, `${lead}rule '${rule.name}': rendered ${problems.join('; ')}`);
  }
  return decisionOf(base, {
    outcome: 'assigned',
    rule: rule.name,
    strategy: rule.strategyName,
    candidates,
    hub: choice.hub,
    reason: `${lead}${choice.reason}`,
    response,
  });
}

function rejected(
  base: DecisionBase,
  rule: CompiledAllocation,
  candidates: readonly string[],
  reason: string,
): Decision {
  return decisionOf(base, {
    outcome: 'rejected',
    rule: rule.name,
    strategy: rule.strategyName,
    candidates,
    hub: undefined,
    reason,
  });
}

/** Built field by field: on this hot path an object spread cost more than all the rest of a decision. */
function decisionOf(base: DecisionBase, rest: Omit<Decision, keyof DecisionBase | 'skippedRules'>): Decision {
  return {
    registrationId: base.registrationId,
    enrollment: base.enrollment,
    assignment: base.assignment,
    outcome: rest.outcome,
    rule: rest.rule,
    strategy: rest.strategy,
    candidates: rest.candidates,
    hub: rest.hub,
    reason: rest.reason,
    response: rest.response,
  };
}

function noCandidateReason(rule: CompiledAllocation, linkedHubs: readonly string[]): string {
  const wanted = rule.hubSelectors
    ? `none of [${rule.hubSelectors.join(', ')}] is linked`
    : 'no hub is linked';
  return `${wanted} (linkedHubs: [${linkedHubs.join(', ')}])`;
}

function compileTwin(template: InitialTwinTemplate | undefined): CompiledAllocation['twin'] {
  if (!template) return undefined;
  return {
    tags: template.tags ? compileTemplate(template.tags) : undefined,
    desired: template.properties?.desired ? compileTemplate(template.properties.desired) : undefined,
  };
}

function describe(problems: { path: string; message: string }[]): string[] {
  return problems.map((p) => `${p.path} ${p.message}`);
}
