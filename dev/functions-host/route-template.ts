// ASP.NET Core route templates as the Functions host reads them: literal parts match case-insensitively,
// `{id}`, `{id?}`, `{id=default}`, `{*rest}` / `{**rest}` and constraints such as `{id:int}` or
// `{code:regex(^\\d{{3}}$)}`. `{{` and `}}` are literal braces.

interface LiteralPart {
  kind: 'literal';
  text: string;
}

interface ParameterPart {
  kind: 'parameter';
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
  constraints: Constraint[];
}

type Part = LiteralPart | ParameterPart;

interface Constraint {
  name: string;
  argument: string | undefined;
  check: ((value: string) => boolean) | undefined; // undefined: tolerated but not enforced
}

export interface CompiledRoute {
  readonly template: string;
  readonly parameterNames: readonly string[];
  /** Constraints this host does not know; they are accepted and not enforced. */
  readonly unknownConstraints: readonly string[];
  /** Per-segment precedence digits; compare with compareRoutePrecedence. */
  readonly precedence: readonly number[];
  /** Route values for a decoded path relative to the route prefix (no leading slash), or undefined. */
  match(path: string): Record<string, string> | undefined;
}

export class RouteTemplateError extends Error {
  constructor(template: string, problem: string) {
    super(`Invalid route template "${template}": ${problem}`);
    this.name = 'RouteTemplateError';
  }
}

export function compileRouteTemplate(template: string): CompiledRoute {
  const trimmed = template.replace(/^[~/]+|\/+$/g, '');
  const segments =
    trimmed === '' ? [] : splitSegments(trimmed, template).map((s) => parseSegment(s, template));
  const parameters = segments.flat().filter((p): p is ParameterPart => p.kind === 'parameter');
  checkParameters(parameters, segments, template);

  let pattern = '';
  segments.forEach((parts, index) => {
    const separator = index === 0 ? '' : '/';
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only?.kind === 'parameter' && (only.optional || only.catchAll || only.defaultValue !== undefined)) {
      // The segment, and the slash before it, may be absent.
      pattern += `(?:${separator}(${only.catchAll ? '.*' : '[^/]+'}))?`;
      return;
    }
    pattern += separator + parts.map(partPattern).join('');
  });
  const regex = new RegExp(`^${pattern}/?$`, 'i');

  return {
    template,
    parameterNames: parameters.map((p) => p.name),
    unknownConstraints: parameters.flatMap((p) => p.constraints.filter((c) => !c.check).map((c) => c.name)),
    precedence: segments.map(segmentPrecedence),
    match(path: string) {
      const found = regex.exec(path);
      if (!found) return undefined;
      const values: Record<string, string> = {};
      for (const [index, parameter] of parameters.entries()) {
        const value = found[index + 1];
        if (value === undefined || value === '') {
          if (parameter.defaultValue !== undefined) values[parameter.name] = parameter.defaultValue;
          else if (!parameter.optional && !parameter.catchAll) return undefined;
          continue;
        }
        if (!parameter.constraints.every((c) => !c.check || c.check(value))) return undefined;
        values[parameter.name] = value;
      }
      return values;
    },
  };
}

/** Orders routes like ASP.NET's inbound precedence: literals before constrained parameters before catch-alls. */
export function compareRoutePrecedence(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

function segmentPrecedence(parts: Part[]): number {
  const only = parts.length === 1 ? parts[0] : undefined;
  if (!only) return 2; // complex segment such as {name}.{ext}
  if (only.kind === 'literal') return 1;
  if (only.catchAll) return 5;
  return only.constraints.length > 0 ? 3 : 4;
}

// Greedy parameters: in a complex segment such as {name}.{ext}, ASP.NET matches literals from the right.
function partPattern(part: Part): string {
  if (part.kind === 'literal') return escapeRegex(part.text);
  return part.catchAll ? '(.*)' : '([^/]+)';
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function splitSegments(route: string, template: string): string[] {
  const segments: string[] = [];
  let current = '';
  let inParameter = false;
  for (let i = 0; i < route.length; i++) {
    const char = route[i];
    const next = route[i + 1];
    if ((char === '{' && next === '{') || (char === '}' && next === '}')) {
      current += char + next;
      i++;
    } else if (char === '{') {
      if (inParameter) throw new RouteTemplateError(template, 'unbalanced "{"');
      inParameter = true;
      current += char;
    } else if (char === '}') {
      if (!inParameter) throw new RouteTemplateError(template, 'unbalanced "}"');
      inParameter = false;
      current += char;
    } else if (char === '/' && !inParameter) {
      if (current === '') throw new RouteTemplateError(template, 'empty segment');
      segments.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (inParameter) throw new RouteTemplateError(template, 'unclosed "{"');
  if (current !== '') segments.push(current);
  return segments;
}

function parseSegment(segment: string, template: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i];
    const next = segment[i + 1];
    if ((char === '{' && next === '{') || (char === '}' && next === '}')) {
      literal += char;
      i++;
    } else if (char === '{') {
      if (literal) parts.push({ kind: 'literal', text: literal });
      literal = '';
      let body = '';
      let j = i + 1;
      for (; j < segment.length; j++) {
        const c = segment[j];
        if ((c === '{' || c === '}') && segment[j + 1] === c) {
          body += c;
          j++;
        } else if (c === '}') {
          break;
        } else {
          body += c;
        }
      }
      parts.push(parseParameter(body, template));
      i = j;
    } else {
      literal += char;
    }
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]?.kind === 'parameter' && parts[i - 1]?.kind === 'parameter') {
      throw new RouteTemplateError(template, 'two parameters in a segment must be separated by a literal');
    }
  }
  return parts;
}

function parseParameter(body: string, template: string): ParameterPart {
  let rest = body;
  const catchAll = rest.startsWith('*');
  rest = rest.replace(/^\*{1,2}/, '');
  const nameMatch = /^[^:=?]+/.exec(rest);
  const name = nameMatch?.[0].trim() ?? '';
  if (!/^[A-Za-z_][\w-]*$/.test(name))
    throw new RouteTemplateError(template, `bad parameter name in "{${body}}"`);
  rest = rest.slice(nameMatch?.[0].length ?? 0);

  const constraints: Constraint[] = [];
  while (rest.startsWith(':')) {
    const constraintName = /^:([A-Za-z]+)/.exec(rest)?.[1];
    if (!constraintName) throw new RouteTemplateError(template, `bad constraint in "{${body}}"`);
    rest = rest.slice(constraintName.length + 1);
    let argument: string | undefined;
    if (rest.startsWith('(')) {
      const end = closingParenthesis(rest);
      if (end < 0) throw new RouteTemplateError(template, `unclosed "(" in "{${body}}"`);
      argument = rest.slice(1, end);
      rest = rest.slice(end + 1);
    }
    constraints.push({
      name: constraintName,
      argument,
      check: constraintCheck(constraintName, argument, template),
    });
  }

  let optional = false;
  let defaultValue: string | undefined;
  if (rest === '?') {
    optional = true;
  } else if (rest.startsWith('=')) {
    defaultValue = rest.slice(1);
  } else if (rest !== '') {
    throw new RouteTemplateError(template, `unexpected "${rest}" in "{${body}}"`);
  }
  if (catchAll && optional)
    throw new RouteTemplateError(template, 'a catch-all parameter cannot be marked optional');
  return { kind: 'parameter', name, optional, catchAll, defaultValue, constraints };
}

/** Index of the ")" closing the "(" at index 0, skipping escaped characters. */
function closingParenthesis(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') i++;
    else if (char === '(') depth++;
    else if (char === ')' && --depth === 0) return i;
  }
  return -1;
}

function checkParameters(parameters: ParameterPart[], segments: Part[][], template: string): void {
  const seen = new Set<string>();
  for (const parameter of parameters) {
    const key = parameter.name.toLowerCase();
    if (seen.has(key)) throw new RouteTemplateError(template, `parameter "${parameter.name}" appears twice`);
    seen.add(key);
  }
  segments.forEach((parts, index) => {
    const last = index === segments.length - 1;
    for (const part of parts) {
      if (part.kind !== 'parameter') continue;
      if (part.catchAll && (!last || parts.length > 1)) {
        throw new RouteTemplateError(template, 'a catch-all parameter must be the whole last segment');
      }
      if (part.optional && !last) {
        throw new RouteTemplateError(template, 'an optional parameter must be in the last segment');
      }
    }
  });
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function constraintCheck(
  name: string,
  argument: string | undefined,
  template: string,
): ((value: string) => boolean) | undefined {
  const numbers = (argument ?? '').split(',').map((n) => Number(n.trim()));
  const needNumbers = (count: number[]): number[] => {
    if (!count.includes(numbers.length) || numbers.some((n) => !Number.isFinite(n))) {
      throw new RouteTemplateError(
        template,
        `constraint "${name}" needs ${count.join(' or ')} numeric argument(s)`,
      );
    }
    return numbers;
  };
  const isInteger = (v: string): boolean => /^-?\d+$/.test(v);
  switch (name.toLowerCase()) {
    case 'int':
      return (v) => isInteger(v) && Number(v) >= INT32.min && Number(v) <= INT32.max;
    case 'long':
      return (v) => isInteger(v) && BigInt(v) >= INT64.min && BigInt(v) <= INT64.max;
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'guid':
      return (v) => /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[)}]?$/i.test(v);
    case 'double':
    case 'float':
    case 'decimal':
      return (v) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v);
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'minlength': {
      const [min = 0] = needNumbers([1]);
      return (v) => v.length >= min;
    }
    case 'maxlength': {
      const [max = 0] = needNumbers([1]);
      return (v) => v.length <= max;
    }
    case 'length': {
      const [a = 0, b] = needNumbers([1, 2]);
      return b === undefined ? (v) => v.length === a : (v) => v.length >= a && v.length <= b;
    }
    case 'min': {
      const [min = 0] = needNumbers([1]);
      return (v) => isInteger(v) && Number(v) >= min;
    }
    case 'max': {
      const [max = 0] = needNumbers([1]);
      return (v) => isInteger(v) && Number(v) <= max;
    }
    case 'range': {
      const [min = 0, max = 0] = needNumbers([2]);
      return (v) => isInteger(v) && Number(v) >= min && Number(v) <= max;
    }
    case 'regex': {
      let regex: RegExp;
      try {
        regex = new RegExp(argument ?? '', 'i');
      } catch (error) {
        throw new RouteTemplateError(template, `bad regex constraint: ${(error as Error).message}`);
      }
      return (v) => regex.test(v);
    }
    default:
      return undefined;
  }
}
