// Things in a valid policy that are probably not what the operator meant. Few, and each one certain.
import { isGlob } from '../../allocation/glob';
import { compileMatch } from '../../allocation/matchers';
import { jsonPath } from '../../allocation/policy';
import type { Fallback, Policy, Rule, Strategy } from '../../allocation/policy-schema';

export interface PolicyNote {
  /** warning: probably a mistake; info: worth knowing, often intended. */
  level: 'warning' | 'info';
  path: string;
  message: string;
}

type Allocation = Rule | Extract<Fallback, { action: 'allocate' }>;

export function policyWarnings(policy: Policy): PolicyNote[] {
  return [
    ...noRules(policy),
    ...unreachableRules(policy),
    ...unreferencedHubs(policy),
    ...staticFailover(policy),
    ...certificateWithoutX509(policy),
    ...minuteDurations(policy),
    ...certificatePlaceholdersWithoutCertificate(policy),
    ...onlyDrainingHubs(policy),
    ...keepWithoutSticky(policy),
  ];
}

/** A policy without rules hands every device to the fallback, which by default rejects them all. */
function noRules(policy: Policy): PolicyNote[] {
  if (policy.rules.length > 0) return [];
  const rejects = policy.fallback.action === 'reject';
  return [
    {
      level: rejects ? 'warning' : 'info',
      path: jsonPath(['rules']),
      message: rejects
        ? 'no rules: the fallback rejects every device (400)'
        : 'no rules: every device is allocated by the fallback',
    },
  ];
}

/** Rules after one that has no conditions and never passes devices on. */
function unreachableRules(policy: Policy): PolicyNote[] {
  const catchAll = policy.rules.findIndex((rule) => {
    const passesOn = (rule.onNoCandidate ?? policy.defaults.onNoCandidate) === 'nextRule' && rule.hubs;
    return compileMatch(rule.match).length === 0 && !passesOn;
  });
  if (catchAll < 0) return [];
  const name = policy.rules[catchAll]!.name;
  return policy.rules.slice(catchAll + 1).map((rule, i) => ({
    level: 'warning',
    path: jsonPath(['rules', catchAll + 1 + i]),
    message: `rule '${rule.name}' is never reached: rule '${name}' (${jsonPath(['rules', catchAll])}) has no match conditions and decides every device`,
  }));
}

/**
 * Aliases that nothing uses: no selector or payloadMap names them, and they carry no weight, region, maxDevices
 * or drain (those apply wherever the hub is a candidate, named or not).
 */
function unreferencedHubs(policy: Policy): PolicyNote[] {
  const allocations = allocationsOf(policy);
  const strategies = [
    policy.defaults.strategy,
    ...allocations.map(({ allocation }) => allocation.strategy),
  ].filter((s): s is Strategy => s !== undefined);
  // Without a map, a payloadMap strategy reads aliases from device payloads; any alias may be meant.
  if (strategies.some((s) => s.type === 'payloadMap' && !s.map)) return [];
  const templates = JSON.stringify(
    allocations.map(({ allocation }) => [allocation.initialTwin, allocation.payload]),
  );
  if (/\{\{\s*hubAlias\s*\}\}/.test(templates)) return [];

  const referenced = new Set<string>();
  for (const { allocation } of allocations)
    for (const selector of allocation.hubs ?? []) referenced.add(selector);
  for (const strategy of strategies) {
    if (strategy.type === 'payloadMap')
      for (const target of Object.values(strategy.map ?? {})) referenced.add(target);
  }
  return Object.entries(policy.hubs)
    .filter(
      ([alias, hub]) =>
        !referenced.has(alias) &&
        hub.weight === undefined &&
        hub.region === undefined &&
        hub.maxDevices === undefined &&
        hub.drain === undefined,
    )
    .map(([alias]) => ({
      level: 'warning',
      path: jsonPath(['hubs', alias]),
      message: `hub alias '${alias}' is defined but never referenced (no rule's hubs or payloadMap names it, and it sets no weight or region)`,
    }));
}

/** static with several selectors: the later ones only take devices when the earlier ones are not linked. */
function staticFailover(policy: Policy): PolicyNote[] {
  return allocationsOf(policy).flatMap(({ path, allocation }): PolicyNote[] => {
    const strategy = allocation.strategy ?? policy.defaults.strategy;
    const later = (allocation.hubs ?? []).slice(1);
    if (strategy?.type !== 'static' || later.length === 0) return [];
    return [
      {
        level: 'info',
        path: jsonPath([...path, 'hubs']),
        message: `static always takes the first linked candidate: ${later.map((s) => `'${s}'`).join(', ')} ${later.length === 1 ? 'is' : 'are'} only failover: used when no earlier selector matches a linked hub`,
      },
    ];
  });
}

/** match.x509 with an attestation condition that leaves out x509: only X.509 devices have a certificate. */
function certificateWithoutX509(policy: Policy): PolicyNote[] {
  return policy.rules.flatMap((rule, index): PolicyNote[] => {
    const attestation = rule.match?.attestation;
    if (rule.match?.x509 === undefined || attestation === undefined) return [];
    const types = [attestation].flat();
    if (types.includes('x509')) return [];
    return [
      {
        level: 'warning',
        path: jsonPath(['rules', index, 'match']),
        message: `rule '${rule.name}' never matches: match.x509 needs an X.509 device, and match.attestation allows only ${types.join(', ')}`,
      },
    ];
  });
}

/** "6m" is six minutes: worth saying, as m for months is a likely slip. */
function minuteDurations(policy: Policy): PolicyNote[] {
  return policy.rules.flatMap((rule, index): PolicyNote[] => {
    const within = rule.match?.x509?.notAfter?.within;
    if (within === undefined || !within.endsWith('m')) return [];
    return [
      {
        level: 'info',
        path: jsonPath(['rules', index, 'match', 'x509', 'notAfter', 'within']),
        message: `'${within}' is ${within.slice(0, -1)} minutes (m is minutes; write days or weeks, e.g. "30d", "8w")`,
      },
    ];
  });
}

/** {{x509.…}} in a rule that does not require a certificate: devices without one get no value there. */
function certificatePlaceholdersWithoutCertificate(policy: Policy): PolicyNote[] {
  return allocationsOf(policy).flatMap(({ path, allocation }): PolicyNote[] => {
    const rule = 'name' in allocation ? allocation : undefined;
    if (rule?.match?.x509 !== undefined) return [];
    const used = [
      ...JSON.stringify([allocation.initialTwin, allocation.payload]).matchAll(
        /\{\{\s*(x509\.[^{}]*?)\s*\}\}/g,
      ),
    ].map((m) => m[1]!);
    if (used.length === 0) return [];
    const who = rule ? `rule '${rule.name}' has no match.x509` : 'the fallback takes any device';
    return [
      {
        level: 'info',
        path: jsonPath(path),
        message: `${who}: devices without certificate details get no value for {{${[...new Set(used)].join('}}, {{')}}} (a whole-value placeholder drops its key, text gets "")`,
      },
    ];
  });
}

/** A rule that names only draining hubs (no glob) assigns no new device: worth saying, often meant for a while. */
function onlyDrainingHubs(policy: Policy): PolicyNote[] {
  const draining = new Map(
    Object.entries(policy.hubs).map(([alias, hub]) => [alias, hub.drain === true] as const),
  );
  const drainingHosts = new Set(
    Object.values(policy.hubs).flatMap((hub) => (hub.drain ? [hub.hostName.toLowerCase()] : [])),
  );
  const drains = (selector: string) =>
    draining.get(selector) ?? (!isGlob(selector) && drainingHosts.has(selector.toLowerCase()));
  return allocationsOf(policy).flatMap(({ path, allocation }): PolicyNote[] => {
    const selectors = allocation.hubs;
    if (!selectors || !selectors.every(drains)) return [];
    const who = 'name' in allocation ? `rule '${allocation.name}'` : 'the fallback';
    const onNoCandidate =
      'name' in allocation
        ? (allocation.onNoCandidate ?? policy.defaults.onNoCandidate ?? 'reject')
        : 'reject';
    return [
      {
        level: 'info',
        path: jsonPath([...path, 'hubs']),
        message: `every hub ${who} names is draining: it assigns no new device (onNoCandidate: ${onNoCandidate})`,
      },
    ];
  });
}

/** onDrainingHub 'keep' only keeps a device its sticky rule would keep: under reallocate it does nothing. */
function keepWithoutSticky(policy: Policy): PolicyNote[] {
  const notes: PolicyNote[] = [];
  const { defaults } = policy;
  for (const { path, allocation } of allocationsOf(policy)) {
    const reprovision = allocation.reprovision ?? defaults.reprovision ?? 'sticky';
    if (allocation.onDrainingHub === 'keep' && reprovision === 'reallocate') {
      notes.push({
        level: 'warning',
        path: jsonPath([...path, 'onDrainingHub']),
        message: `onDrainingHub 'keep' has no effect with reprovision 'reallocate': no device keeps its hub`,
      });
    }
  }
  if (defaults.onDrainingHub === 'keep' && defaults.reprovision === 'reallocate') {
    const sticky = allocationsOf(policy).some(({ allocation }) => allocation.reprovision === 'sticky');
    if (!sticky) {
      notes.push({
        level: 'warning',
        path: jsonPath(['defaults', 'onDrainingHub']),
        message: `onDrainingHub 'keep' has no effect: every rule reallocates, so no device keeps its hub`,
      });
    }
  }
  return notes;
}

function allocationsOf(policy: Policy): { path: (string | number)[]; allocation: Allocation }[] {
  const rules = policy.rules.map((rule, index) => ({
    path: ['rules', index],
    allocation: rule as Allocation,
  }));
  return policy.fallback.action === 'allocate'
    ? [...rules, { path: ['fallback'], allocation: policy.fallback }]
    : rules;
}
