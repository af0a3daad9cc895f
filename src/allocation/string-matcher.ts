// String matchers of the policy (a glob, { glob }, { regex, caseSensitive }, or a list of those), compiled once.
import { globToRegExp } from './glob';
import type { StringMatcher } from './policy-schema';

export function compileStringMatcher(matcher: StringMatcher): (value: string) => boolean {
  const alternatives = (Array.isArray(matcher) ? matcher : [matcher]).map((m): RegExp => {
    if (typeof m === 'string') return globToRegExp(m);
    if ('glob' in m) return globToRegExp(m.glob);
    return new RegExp(m.regex, m.caseSensitive ? 'u' : 'iu');
  });
  return (value) => alternatives.some((re) => re.test(value));
}

/** The matcher as explanations quote it: `'glob'`, `/regex/`, or `any of …`. */
export function describeStringMatcher(matcher: StringMatcher): string {
  const parts = (Array.isArray(matcher) ? matcher : [matcher]).map((m) =>
    typeof m === 'string' ? `'${m}'` : 'glob' in m ? `'${m.glob}'` : `/${m.regex}/`,
  );
  return parts.length === 1 ? parts[0]! : `any of ${parts.join(', ')}`;
}
