// initialTwin and payload templates: JSON values whose strings may hold {{placeholders}}.
// A string that is exactly one placeholder takes the value's JSON type ("{{payload.temp}}" -> 21.5);
// elsewhere placeholders are interpolated as text. A missing value drops the key, or interpolates as "".
import { certificateLookup } from './certificate-templates';
import type { DeviceCertificate } from './device-certificate';
import { type JsonPath, parseDottedPath, valueAt } from './json-path';

export interface TemplateContext {
  registrationId: string;
  currentDeviceId: string | undefined;
  currentIotHubHostName: string | undefined;
  enrollmentGroupId: string | undefined;
  hub: string;
  hubAlias: string | undefined;
  rule: string;
  payload: Record<string, unknown> | undefined;
  certificate: DeviceCertificate | undefined;
}

export const PLACEHOLDER_NAMES = [
  'registrationId',
  'currentDeviceId',
  'currentIotHubHostName',
  'enrollmentGroupId',
  'hub',
  'hubAlias',
  'rule',
] as const;
type PlaceholderName = (typeof PLACEHOLDER_NAMES)[number];

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

type Lookup = (ctx: TemplateContext) => unknown;
type CompiledNode =
  | { kind: 'constant'; value: unknown }
  | { kind: 'whole'; lookup: Lookup }
  | { kind: 'interpolated'; parts: (string | Lookup)[] }
  | { kind: 'object'; entries: [string, CompiledNode][] }
  | { kind: 'array'; items: CompiledNode[] };

export interface CompiledTemplate {
  render(ctx: TemplateContext): Record<string, unknown>;
  /** The template has no placeholders: every render gives the same (shared, read-only) value. */
  isStatic: boolean;
}

/** Names of placeholders that are not known, with their template paths, for policy validation. */
export function unknownPlaceholders(template: unknown, path: string): { path: string; name: string }[] {
  const found: { path: string; name: string }[] = [];
  visitStrings(template, path, (text, at) => {
    for (const match of text.matchAll(PLACEHOLDER)) {
      if (!lookupFor(match[1] ?? '')) found.push({ path: at, name: match[1] ?? '' });
    }
  });
  return found;
}

export function compileTemplate(template: Record<string, unknown>): CompiledTemplate {
  const root = compileNode(template);
  if (!hasPlaceholders(root)) {
    const constant = deepFreeze(structuredClone(template));
    return { render: () => constant, isStatic: true };
  }
  return {
    render: (ctx) => (renderNode(root, ctx) as Record<string, unknown> | undefined) ?? {},
    isStatic: false,
  };
}

function hasPlaceholders(node: CompiledNode): boolean {
  switch (node.kind) {
    case 'constant':
      return false;
    case 'whole':
    case 'interpolated':
      return true;
    case 'array':
      return node.items.some(hasPlaceholders);
    case 'object':
      return node.entries.some(([, child]) => hasPlaceholders(child));
  }
}

function lookupFor(name: string): Lookup | undefined {
  if (name.startsWith('payload.')) {
    const path: JsonPath = parseDottedPath(name.slice('payload.'.length));
    return (ctx) => valueAt(ctx.payload, path);
  }
  const fromCertificate = certificateLookup(name);
  if (fromCertificate) return (ctx) => (ctx.certificate ? fromCertificate(ctx.certificate) : undefined);
  if ((PLACEHOLDER_NAMES as readonly string[]).includes(name)) {
    const key = name as PlaceholderName;
    return (ctx) => ctx[key];
  }
  return undefined;
}

function compileNode(value: unknown): CompiledNode {
  if (typeof value === 'string') return compileString(value);
  if (Array.isArray(value)) return { kind: 'array', items: value.map(compileNode) };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return {
      kind: 'object',
      entries: Object.entries(value).map(([key, child]) => [key, compileNode(child)]),
    };
  }
  return { kind: 'constant', value };
}

function compileString(text: string): CompiledNode {
  const matches = [...text.matchAll(PLACEHOLDER)];
  if (matches.length === 0) return { kind: 'constant', value: text };
  const first = matches[0]!;
  if (matches.length === 1 && first[0] === text) {
    return { kind: 'whole', lookup: lookupFor(first[1] ?? '') ?? (() => undefined) };
  }
  const parts: (string | Lookup)[] = [];
  let last = 0;
  for (const match of matches) {
    const index = match.index ?? 0;
    if (index > last) parts.push(text.slice(last, index));
    parts.push(lookupFor(match[1] ?? '') ?? (() => undefined));
    last = index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return { kind: 'interpolated', parts };
}

function renderNode(node: CompiledNode, ctx: TemplateContext): unknown {
  switch (node.kind) {
    case 'constant':
      return node.value;
    case 'whole':
      return node.lookup(ctx);
    case 'interpolated':
      return node.parts.map((part) => (typeof part === 'string' ? part : asText(part(ctx)))).join('');
    case 'array':
      return node.items.map((item) => renderNode(item, ctx) ?? null);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of node.entries) {
        const rendered = renderNode(child, ctx);
        if (rendered !== undefined) out[key] = rendered;
      }
      return out;
    }
  }
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function visitStrings(value: unknown, path: string, visit: (text: string, path: string) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) visitStrings(child, `${path}.${key}`, visit);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
