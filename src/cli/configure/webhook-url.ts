// The custom-allocation webhook URL: validated, with the function key in `?code=`
// (docs/dps-contract.md §1.1: DPS only stores a URL, and a call without the key fails with 401 ->
// registration error 400209), and masked for display.
import { UsageError } from '../shared/usage-error';

const MASK = '***';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const MAX_KEY_LENGTH = 1024;

export interface WebhookUrlInput {
  /** The function URL, with or without `?code=<key>`. */
  url: string;
  /** A function key to put into `code` (the URL must not already carry another one). */
  functionKey?: string;
  /** The function's authorization level is Anonymous: a URL without a key is accepted. */
  anonymous?: boolean;
}

/** Names of the query parameters that carry a Functions key (`code`, matched without regard to case). */
function codeParams(url: URL): string[] {
  return [...new Set([...url.searchParams.keys()].filter((name) => name.toLowerCase() === 'code'))];
}

function checkFunctionKey(key: string): void {
  const hasControlOrSpace = [...key].some(
    (char) => char.trim() === '' || char.charCodeAt(0) < 0x20 || char === '\u007f',
  );
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || hasControlOrSpace) {
    throw new UsageError(
      `the function key must be 1-${MAX_KEY_LENGTH} characters without spaces or control characters`,
    );
  }
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      'the webhook URL is not a valid absolute URL, e.g. https://my-app.azurewebsites.net/api/allocate',
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new UsageError(
      'the webhook URL must use https (http is accepted only for 127.0.0.1 or localhost, for local tests)',
    );
  }
  if (url.username || url.password) {
    throw new UsageError('the webhook URL must not carry a user name or password');
  }
  if (url.hash) throw new UsageError('the webhook URL must not have a #fragment');
  return url;
}

/**
 * The webhook URL DPS must store: `https://…/api/allocate?code=<key>`. Refuses a URL that ends up without a key
 * unless the function is anonymous, because DPS would then fail every registration with 400209.
 */
export function buildWebhookUrl(input: WebhookUrlInput): string {
  const url = parseUrl(input.url);
  const present = codeParams(url);
  if (present.length > 1 || url.searchParams.getAll(present[0] ?? 'code').length > 1) {
    throw new UsageError('the webhook URL has more than one code= parameter');
  }
  const existing = present[0] === undefined ? undefined : (url.searchParams.get(present[0]) ?? undefined);
  if (existing !== undefined) checkFunctionKey(existing);

  if (input.functionKey !== undefined) {
    checkFunctionKey(input.functionKey);
    if (existing !== undefined && existing !== input.functionKey) {
      throw new UsageError(
        'the webhook URL already has a code= key that differs from the function key given: give only one',
      );
    }
    if (existing === undefined) url.searchParams.set('code', input.functionKey);
  } else if (existing === undefined && !input.anonymous) {
    throw new UsageError(
      'the webhook URL has no function key (no code= parameter): DPS would get 401 from the function and fail every ' +
        'registration with 400209 (CustomAllocationUnauthorizedAccess). Give --function-key (or ' +
        'ALLOCATE_FUNCTION_KEY), --function-app/--resource-group/--subscription to look it up, or --anonymous ' +
        'if the function allows anonymous calls',
    );
  }
  return url.href;
}

/** True when the URL carries a `code=` parameter. */
export function hasFunctionKey(webhookUrl: string): boolean {
  try {
    return codeParams(new URL(webhookUrl)).length > 0;
  } catch {
    return /[?&]code=/i.test(webhookUrl);
  }
}

/**
 * The URL for display: the value of every `code` parameter replaced by `***`; a text that is not a URL keeps
 * only what precedes its query. Nothing else of the URL is secret.
 */
export function maskWebhookUrl(webhookUrl: string): string {
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    const beforeQuery = webhookUrl.split(/[?#]/, 1)[0] ?? '';
    return beforeQuery === webhookUrl ? webhookUrl : `${beforeQuery}?${MASK}`;
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  if (!url.search) return url.href;
  const query = url.search
    .slice(1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decodedName = name;
      try {
        decodedName = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return decodedName.toLowerCase() === 'code' ? `${name}=${MASK}` : pair;
    })
    .join('&');
  return `${url.origin}${url.pathname}?${query}`;
}

/** Whether two webhook URLs name the same target (after URL normalisation: host case, default port, escapes). */
export function sameWebhookUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}
