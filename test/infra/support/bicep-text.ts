// A small text reader for Bicep files: enough to compare their declarations with the code, not a parser.
// Bicep cannot be compiled on these machines, so infra.test.ts reads the files through this.
// What it sees, and its limits (readers.test.ts pins them):
//   - Comments are removed first; strings are kept. It follows '...' strings (with \' escapes and ${...}
//     interpolations nesting further strings) and '''...''' strings, so `//` inside a string is not a comment.
//   - `param`, `output`, `resource` and `module` declarations must begin a line. A param has a default when an `=`
//     follows its type on the same line, or when its type is nullable (`string?`: Bicep passes null).
//   - App settings are objects that start `{ name: '<literal>'` followed by `value:` on the next line (or after a comma).
//     Settings built with union(), object syntax (`KEY: value`), computed names or a Microsoft.Web/sites/config
//     resource are not seen; infra.test.ts fails on sites/config so such settings cannot slip past unnoticed.
//   - A setting's value is the rest of its `value:` line, so a value expression spanning lines is cut short.

export interface BicepParam {
  name: string;
  type: string;
  hasDefault: boolean;
}

export interface BicepOutput {
  name: string;
  type: string;
  expression: string;
}

export interface BicepResource {
  symbol: string;
  type: string;
  apiVersion: string | undefined;
  existing: boolean;
}

export interface BicepModule {
  symbol: string;
  path: string;
}

export interface BicepAppSetting {
  name: string;
  value: string;
}

export interface BicepFile {
  /** The source without comments (strings and line breaks kept). */
  code: string;
  params: BicepParam[];
  outputs: BicepOutput[];
  resources: BicepResource[];
  modules: BicepModule[];
  appSettings: BicepAppSetting[];
}

type Mode = { kind: 'string' } | { kind: 'interpolation'; depth: number };

/** Removes // and /* *\/ comments (keeping their line breaks) and leaves strings untouched. */
export function stripComments(source: string): string {
  const stack: Mode[] = [];
  let out = '';
  let i = 0;
  const inCode = () => stack.length === 0 || stack[stack.length - 1]!.kind === 'interpolation';
  while (i < source.length) {
    const rest = source.slice(i, i + 3);
    const char = source[i]!;
    if (inCode()) {
      if (rest === "'''") {
        const end = source.indexOf("'''", i + 3);
        if (end < 0) throw new Error(`unterminated ''' string at offset ${i}`);
        out += source.slice(i, end + 3);
        i = end + 3;
      } else if (rest.startsWith('//')) {
        while (i < source.length && source[i] !== '\n') i++;
      } else if (rest.startsWith('/*')) {
        const end = source.indexOf('*/', i + 2);
        if (end < 0) throw new Error(`unterminated /* comment at offset ${i}`);
        out += source.slice(i, end + 2).replace(/[^\n]/g, '');
        i = end + 2;
      } else {
        const top = stack[stack.length - 1];
        if (char === "'") stack.push({ kind: 'string' });
        else if (top?.kind === 'interpolation' && char === '{') top.depth++;
        else if (top?.kind === 'interpolation' && char === '}') {
          if (top.depth === 0) stack.pop();
          else top.depth--;
        }
        out += char;
        i++;
      }
    } else if (char === '\\') {
      out += source.slice(i, i + 2);
      i += 2;
    } else if (rest.startsWith('${')) {
      stack.push({ kind: 'interpolation', depth: 0 });
      out += '${';
      i += 2;
    } else {
      if (char === "'") stack.pop();
      out += char;
      i++;
    }
  }
  if (stack.length > 0) throw new Error('unterminated string or interpolation at end of file');
  return out;
}

/** Index of the first `=` outside quotes, or -1. */
function assignmentIndex(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "'") quoted = !quoted;
    else if (text[i] === '=' && !quoted) return i;
  }
  return -1;
}

function readParam(name: string, rest: string): BicepParam {
  const at = assignmentIndex(rest);
  const type = (at < 0 ? rest : rest.slice(0, at)).trim();
  return { name, type, hasDefault: at >= 0 || type.endsWith('?') };
}

/** Drops the closing brace of a one-line `{ name: ..., value: ... }` object from the value text. */
function settingValue(line: string): string {
  const text = line.trim();
  const opened = (text.match(/\{/g) ?? []).length;
  const closed = (text.match(/\}/g) ?? []).length;
  return closed > opened && text.endsWith('}') ? text.slice(0, -1).trim() : text;
}

export function readBicep(source: string): BicepFile {
  const code = stripComments(source);
  const file: BicepFile = { code, params: [], outputs: [], resources: [], modules: [], appSettings: [] };
  for (const line of code.split(/\r?\n/)) {
    let match = /^\s*param\s+([A-Za-z_]\w*)\s+(.+)$/.exec(line);
    if (match) file.params.push(readParam(match[1]!, match[2]!));
    match = /^\s*output\s+([A-Za-z_]\w*)\s+(\S+)\s*=\s*(.*)$/.exec(line);
    if (match) file.outputs.push({ name: match[1]!, type: match[2]!, expression: match[3]!.trim() });
    match = /^\s*resource\s+([A-Za-z_]\w*)\s+'([^'@]+)(?:@([^']+))?'\s*(existing\s*)?=/.exec(line);
    if (match)
      file.resources.push({
        symbol: match[1]!,
        type: match[2]!,
        apiVersion: match[3],
        existing: match[4] !== undefined,
      });
    match = /^\s*module\s+([A-Za-z_]\w*)\s+'([^']+)'\s*=/.exec(line);
    if (match) file.modules.push({ symbol: match[1]!, path: match[2]! });
  }
  const pair = /\{\s*name\s*:\s*'([^'\\$]+)'[ \t]*(?:,|\r?\n)\s*value\s*:[ \t]*([^\r\n]*)/g;
  for (const match of code.matchAll(pair)) {
    file.appSettings.push({ name: match[1]!, value: settingValue(match[2]!) });
  }
  return file;
}
