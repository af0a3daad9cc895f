// Hints for policy problems: what is allowed at a JSON path, and the likely intended name for a typo.
// What is allowed comes from the policy's JSON Schema (generated from the zod schema), never from a copy.
import type { PolicyProblem } from '../../allocation/policy';
import { policyJsonSchema } from '../../allocation/policy-json-schema';
import { CERTIFICATE_PLACEHOLDER_NAMES } from '../../allocation/certificate-templates';
import { CERTIFICATE_NAME_PARTS } from '../../allocation/policy-schema';
import { PLACEHOLDER_NAMES } from '../../allocation/templates';
import { closest } from './closest';

type JsonSchema = {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  description?: string;
};

/** `$.rules[2]["odd key"].x` -> ['rules', 2, 'odd key', 'x']; undefined when the path is not in that form. */
export function pathSegments(path: string): (string | number)[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const segments: (string | number)[] = [];
  const step = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < path.length) {
    const match = step.exec(path);
    if (!match) return undefined;
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push(JSON.parse(match[3]!) as string);
  }
  return segments;
}

/** One hint for a problem, or undefined when the message says it all. */
export function hintFor(problem: PolicyProblem, raw: unknown): string | undefined {
  const segments = pathSegments(problem.path);
  const { message } = problem;

  const unknownFields = /^unknown field\(s\) (.+)$/.exec(message);
  if (unknownFields && segments) {
    const fields = knownFields(segments, raw);
    if (fields.length === 0) return undefined;
    const typos = [...unknownFields[1]!.matchAll(/'([^']*)'/g)].flatMap(([, key]) => {
      const suggestion = closest(key!, fields);
      return suggestion === undefined ? [] : [{ key: key!, suggestion }];
    });
    const meant =
      typos.length === 1
        ? `'${typos[0]!.suggestion}'`
        : typos.map(({ key, suggestion }) => `'${suggestion}' (for '${key}')`).join(', ');
    const allowed = `allowed here: ${fields.join(', ')}`;
    return typos.length > 0 ? `did you mean ${meant}? (${allowed})` : allowed;
  }

  const alias = /^'(.*)' is not a hub alias/.exec(message);
  if (alias) {
    const aliases = Object.keys(objectAt(raw, ['hubs']) ?? {});
    const suggestion = closest(alias[1]!, aliases);
    return suggestion
      ? `did you mean '${suggestion}'?`
      : 'define the alias under $.hubs, or write a full host name (with a dot) or a glob (* or ?)';
  }

  const placeholder = /^unknown placeholder \{\{(.*?)\}\}/.exec(message);
  if (placeholder) {
    const name = placeholder[1]!;
    const suggestion = closest(name, [...PLACEHOLDER_NAMES, ...CERTIFICATE_PLACEHOLDER_NAMES]);
    if (suggestion) return `did you mean {{${suggestion}}}?`;
    // The message lists the certificate placeholders already.
    return name.startsWith('x509.') ? undefined : 'payload fields are written {{payload.<dotted.path>}}';
  }

  const duplicate = /^duplicate rule name '(.*)'$/.exec(message);
  if (duplicate) {
    const rules = valueAt(raw, ['rules']);
    const first = Array.isArray(rules)
      ? rules.findIndex((rule) => (rule as { name?: unknown } | null)?.name === duplicate[1])
      : -1;
    const where = first >= 0 ? `first used at $.rules[${first}].name; ` : '';
    return `${where}rule names must be unique: they identify the rule in logs and explanations`;
  }

  if (message.startsWith('invalid regular expression')) {
    return 'JavaScript syntax (with the u flag); in JSON a backslash is written twice, e.g. "^sn-\\\\d+$"';
  }

  if (segments && message === 'Invalid input' && isStringMatcherField(segments)) {
    return 'expected a glob string, { "glob": "..." }, { "regex": "..." } or a non-empty list of those';
  }

  const missing = segments?.at(-1);
  if (message.endsWith('received undefined') && typeof missing === 'string') {
    return `'${missing}' is required here`;
  }

  if (!segments) return undefined;
  // A misspelt enum value or strategy type: suggest the nearest allowed value, else list them.
  const value = valueAt(raw, segments);
  const allowed = allowedValues(segments, raw);
  const suggestion = typeof value === 'string' ? closest(value, allowed) : undefined;
  if (suggestion) return `did you mean '${suggestion}'?`;
  if (allowed.length > 0 && !message.includes('Expected ')) {
    return `allowed: ${allowed.map((v) => `'${v}'`).join(', ')}`;
  }
  // Otherwise what the schema says the field (or, for a list item, the list) is for.
  const listItem = typeof segments.at(-1) === 'number';
  return descriptionAt(segments, raw) ?? (listItem ? descriptionAt(segments.slice(0, -1), raw) : undefined);
}

/** match.registrationId, match.enrollmentGroupId and the name parts of match.x509 take string matchers. */
function isStringMatcherField(segments: readonly (string | number)[]): boolean {
  const field = segments.at(-1);
  if (segments.at(-2) === 'match') return field === 'registrationId' || field === 'enrollmentGroupId';
  return (
    segments.at(-4) === 'match' &&
    segments.at(-3) === 'x509' &&
    (CERTIFICATE_NAME_PARTS as readonly unknown[]).includes(field)
  );
}

function descriptionAt(segments: readonly (string | number)[], raw: unknown): string | undefined {
  const described = schemasAt(segments, raw).find((schema) => schema.description);
  return described?.description;
}

function knownFields(segments: readonly (string | number)[], raw: unknown): string[] {
  const fields = new Set<string>();
  for (const schema of schemasAt(segments, raw)) {
    for (const key of Object.keys(schema.properties ?? {})) fields.add(key);
  }
  return [...fields];
}

function allowedValues(segments: readonly (string | number)[], raw: unknown): string[] {
  const values = new Set<string>();
  for (const schema of schemasAt(segments, raw)) {
    for (const v of [schema.const, ...(schema.enum ?? [])]) if (typeof v === 'string') values.add(v);
  }
  return [...values];
}

let rootSchema: JsonSchema | undefined;

/** The schemas that can describe the value at `segments`, following the raw value through unions. */
function schemasAt(segments: readonly (string | number)[], raw: unknown): JsonSchema[] {
  rootSchema ??= policyJsonSchema() as JsonSchema;
  let current = expand(rootSchema, raw);
  let value: unknown = raw;
  for (const segment of segments) {
    value = valueAt(value, [segment]);
    const next: JsonSchema[] = [];
    for (const schema of current) {
      const child =
        typeof segment === 'number'
          ? schema.items
          : (schema.properties?.[segment] ??
            (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined));
      if (child) next.push(...expand(child, value));
    }
    current = next;
  }
  return current;
}

/** Union branches whose discriminator (`type`, `action`) fits the value, or every branch when none does. */
function expand(schema: JsonSchema, value: unknown): JsonSchema[] {
  if (schema.$ref !== undefined) return expand(definition(schema.$ref), value);
  const branches = schema.oneOf ?? schema.anyOf;
  if (!branches) return [schema];
  const all = branches.flatMap((branch) => expand(branch, value));
  const fits = (branch: JsonSchema) => {
    const constants = Object.entries(branch.properties ?? {}).filter(([, p]) => p.const !== undefined);
    return constants.length > 0 && constants.every(([key, p]) => valueAt(value, [key]) === p.const);
  };
  const fitting = all.filter(fits);
  return fitting.length > 0 ? fitting : all;
}

/** A `#/$defs/<name>` reference of the policy schema; an unknown one describes nothing. */
function definition(ref: string): JsonSchema {
  const name = /^#\/\$defs\/(.+)$/.exec(ref)?.[1];
  return (name === undefined ? undefined : rootSchema?.$defs?.[name]) ?? {};
}

function valueAt(root: unknown, segments: readonly (string | number)[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function objectAt(root: unknown, segments: readonly string[]): Record<string, unknown> | undefined {
  const value = valueAt(root, segments);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
