import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthLevel } from './registered-function';

// Function keys as Azure checks them: `?code=<key>` or the `x-functions-key` header. Locally there is one key
// for both 'function' and 'admin' levels; with no key configured nothing is checked, as with `func start`.

export const FUNCTION_KEY_SETTING = 'LOCAL_FUNCTION_KEY';
export const FUNCTION_KEY_HEADER = 'x-functions-key';

/** The key from the option, else the app setting; '' means "no key check". */
export function resolveFunctionKey(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return (option ?? env[FUNCTION_KEY_SETTING] ?? '').trim();
}

/** Every key the request presents (header and `code` query parameter). */
export function presentedKeys(headers: IncomingHttpHeaders, query: URLSearchParams): string[] {
  const header = headers[FUNCTION_KEY_HEADER];
  const fromHeader = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return [...fromHeader, ...query.getAll('code')];
}

export function isAuthorized(
  authLevel: AuthLevel,
  configuredKey: string,
  presented: readonly string[],
): boolean {
  if (authLevel === 'anonymous' || configuredKey === '') return true;
  // Check every candidate so the time taken does not depend on which one matched.
  let matched = false;
  for (const candidate of presented) matched = keysEqual(candidate, configuredKey) || matched;
  return matched;
}

/** Constant-time comparison; hashing first makes the lengths equal. */
export function keysEqual(a: string, b: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
