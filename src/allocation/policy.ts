// Parsing and validating a policy: zod for shape, then checks across fields. Every problem names its JSON path.
import type { z } from 'zod';
import { selectorKind } from './hub-selection';
import { CERTIFICATE_NAME_PARTS, policySchema, type Policy, type StringMatcher } from './policy-schema';
import { CERTIFICATE_PLACEHOLDER_NAMES } from './certificate-templates';
import { PLACEHOLDER_NAMES, unknownPlaceholders } from './templates';
import { checkTwinCollection, TWIN_LIMITS } from './twin-limits';

export interface PolicyProblem {
  /** JSON path, e.g. `$.rules[2].strategy.type`. */
  path: string;
  message: string;
}

export class PolicyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: PolicyProblem[],
  ) {
    super(
      `Invalid allocation policy (${source}):\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join('\n'),
    );
    this.name = 'PolicyError';
  }
}

/** Validates a parsed JSON value as a policy; throws PolicyError listing every problem. */
export function parsePolicy(value: unknown, source: string): Policy {
  const result = policySchema.safeParse(value);
  if (!result.success) throw new PolicyError(source, result.error.issues.map(fromZodIssue));
  const problems = semanticProblems(result.data);
  if (problems.length > 0) throw new PolicyError(source, problems);
  return result.data;
}

/** Parses policy JSON text; syntax errors are reported as problems at `$`. */
export function parsePolicyText(text: string, source: string): Policy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(source, [{ path: '$', message: `not valid JSON: ${(error as Error).message}` }]);
  }
  return parsePolicy(value, source);
}

export function jsonPath(segments: readonly PropertyKey[]): string {
  let out = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function fromZodIssue(issue: z.core.$ZodIssue): PolicyProblem {
  let message = issue.message;
  if (issue.code === 'unrecognized_keys')
    message = `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  return { path: jsonPath(issue.path), message };
}

function semanticProblems(policy: Policy): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  const hostsSeen = new Map<string, string>();
  for (const [alias, hub] of Object.entries(policy.hubs)) {
    const host = hub.hostName.toLowerCase();
    const other = hostsSeen.get(host);
    if (other) add(jsonPath(['hubs', alias, 'hostName']), `same host name as hub '${other}'`);
    hostsSeen.set(host, alias);
  }
  const hubRegions = new Set(
    Object.values(policy.hubs).flatMap((hub) => (hub.region ? [hub.region.toLowerCase()] : [])),
  );

  const names = new Set<string>();
  policy.rules.forEach((rule, index) => {
    const at = (...rest: PropertyKey[]) => jsonPath(['rules', index, ...rest]);
    if (names.has(rule.name)) add(at('name'), `duplicate rule name '${rule.name}'`);
    names.add(rule.name);
    checkStringMatcher(rule.match?.registrationId, at('match', 'registrationId'), add);
    checkStringMatcher(rule.match?.enrollmentGroupId, at('match', 'enrollmentGroupId'), add);
    for (const [field, condition] of Object.entries(rule.match?.payload ?? {})) {
      if (condition.regex !== undefined)
        checkRegex(condition.regex, at('match', 'payload', field, 'regex'), add);
    }
    for (const name of ['subject', 'issuer', 'signingSubject'] as const) {
      for (const part of CERTIFICATE_NAME_PARTS) {
        checkStringMatcher(rule.match?.x509?.[name]?.[part], at('match', 'x509', name, part), add);
      }
    }
  });

  const allocations: { path: PropertyKey[]; value: Policy['rules'][number] | Policy['fallback'] }[] = [
    ...policy.rules.map((rule, index) => ({ path: ['rules', index], value: rule })),
    { path: ['fallback'], value: policy.fallback },
  ];
  for (const { path, value } of allocations) {
    if ('action' in value && value.action === 'reject') continue;
    const allocation = value as Extract<Policy['fallback'], { action: 'allocate' }>;
    allocation.hubs?.forEach((selector, i) => {
      if (selectorKind(selector, policy.hubs) === 'hostName' && !selector.includes('.')) {
        add(
          jsonPath([...path, 'hubs', i]),
          `'${selector}' is not a hub alias (known: ${Object.keys(policy.hubs).join(', ') || 'none'}), a host name or a glob`,
        );
      }
    });
    const strategy = allocation.strategy ?? policy.defaults.strategy;
    if (strategy?.type === 'geo' && hubRegions.size === 0) {
      add(jsonPath([...path, 'strategy']), 'the geo strategy needs hubs with a region');
    }
    if (strategy?.type === 'payloadMap' && strategy.map) {
      for (const [key, target] of Object.entries(strategy.map)) {
        if (selectorKind(target, policy.hubs) !== 'alias' && !target.includes('.')) {
          add(jsonPath([...path, 'strategy', 'map', key]), `'${target}' is not a hub alias or a host name`);
        }
      }
    }
    for (const [part, template] of [
      ['initialTwin', allocation.initialTwin],
      ['payload', allocation.payload],
    ] as const) {
      for (const unknown of unknownPlaceholders(template, jsonPath([...path, part]))) {
        add(unknown.path, unknownPlaceholderMessage(unknown.name));
      }
    }
    const twin = allocation.initialTwin;
    if (twin?.tags) {
      for (const p of checkTwinCollection(
        twin.tags,
        jsonPath([...path, 'initialTwin', 'tags']),
        TWIN_LIMITS.tagsBytes,
      )) {
        add(p.path, p.message);
      }
    }
    if (twin?.properties?.desired) {
      const where = jsonPath([...path, 'initialTwin', 'properties', 'desired']);
      for (const p of checkTwinCollection(twin.properties.desired, where, TWIN_LIMITS.desiredBytes))
        add(p.path, p.message);
    }
  }
  return problems;
}

function unknownPlaceholderMessage(name: string): string {
  if (name.startsWith('x509.')) {
    return `unknown placeholder {{${name}}}; the certificate placeholders are ${CERTIFICATE_PLACEHOLDER_NAMES.join(', ')}`;
  }
  return `unknown placeholder {{${name}}}; use ${PLACEHOLDER_NAMES.join(', ')}, payload.<path> or x509.<field>`;
}

function checkStringMatcher(
  matcher: StringMatcher | undefined,
  path: string,
  add: (path: string, message: string) => void,
): void {
  if (matcher === undefined) return;
  const list = Array.isArray(matcher) ? matcher : [matcher];
  list.forEach((m, i) => {
    if (typeof m === 'object' && 'regex' in m) {
      checkRegex(m.regex, Array.isArray(matcher) ? `${path}[${i}].regex` : `${path}.regex`, add);
    }
  });
}

function checkRegex(source: string, path: string, add: (path: string, message: string) => void): void {
  try {
    new RegExp(source, 'u');
  } catch (error) {
    add(path, `invalid regular expression: ${(error as Error).message}`);
  }
}
