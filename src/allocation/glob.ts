// Glob patterns (`*`, `?`) for registration ids and hub host names, compiled once to regular expressions.

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** A case-insensitive, anchored RegExp for a glob: `*` any run of characters, `?` exactly one. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'is');
}
