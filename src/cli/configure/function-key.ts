// Looks up the allocate function's key through Azure Resource Manager with the caller's Entra identity, so the
// azd postprovision hook can put it into the webhook URL without the key ever being printed.
//
// - Web Apps - List Function Keys: POST {arm}/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/
//   {app}/functions/{function}/listkeys (https://learn.microsoft.com/rest/api/appservice/web-apps/list-function-keys).
//   The spec calls the answer a StringDictionary (`{ properties: {...} }`), but ARM answers a flat
//   `{ "default": "<key>" }` (Azure/azure-rest-api-specs#12889 and #11401; azure-functions-core-tools reads
//   `keysJson["default"]`, PR #1648). Both shapes are read.
// - Web Apps - List Host Keys: POST .../sites/{app}/host/default/listkeys
//   (https://learn.microsoft.com/rest/api/appservice/web-apps/list-host-keys) -> HostKeys `{ masterKey,
//   functionKeys: { default }, systemKeys }`. The fallback when the function is not deployed yet (azd runs
//   postprovision before deploy): a host function key opens every function. The master key is never used.
import type { TokenCredential } from '@azure/identity';
import { Agent, request, type Dispatcher } from 'undici';
import { redactSecrets } from '../../dps/redact';
import { UsageError } from '../shared/usage-error';
import { ConfigureError } from './errors';

/** api-version of Microsoft.Web used for both calls; listed for both operations (newer ones exist: 2024-04-01, 2025-05-01). */
export const ARM_WEB_API_VERSION = '2023-12-01';
export const ARM_BASE_URL = 'https://management.azure.com';
/** Waits before the retries after 401/403 (an RBAC role assigned seconds before), 429, 5xx or a network fault. */
export const DEFAULT_ARM_RETRY_DELAYS_MS: readonly number[] = [2_000, 5_000, 10_000, 15_000, 30_000];

export interface FunctionRef {
  subscriptionId: string;
  resourceGroup: string;
  functionApp: string;
  /** The HTTP-triggered function DPS calls; `allocate` in this project. */
  functionName: string;
}

export interface FunctionKeyLookupOptions {
  credential: TokenCredential;
  /** Default https://management.azure.com (tests: a local fake; http is accepted on 127.0.0.1/localhost only). */
  baseUrl?: string;
  apiVersion?: string;
  retryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  /** Default: an agent of its own, closed when done. */
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  onNote?: (message: string) => void;
}

export interface FoundFunctionKey {
  /** The secret. Never print it. */
  key: string;
  /** `function`: a key of the function itself; `host`: a host-level function key. */
  source: 'function' | 'host';
  /** Name of the key (e.g. `default`), not secret. */
  name: string;
}

interface ArmAnswer {
  status: number;
  body: unknown;
  /** Network fault text when there was no answer (status 0). */
  fault?: string;
}

const SUBSCRIPTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_GROUP = /^[-\p{L}\p{N}_.()]{1,90}$/u;
const FUNCTION_APP = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?$/;
const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Throws UsageError unless the names are well-formed Azure names. */
export function validateFunctionRef(ref: FunctionRef): void {
  if (!SUBSCRIPTION_ID.test(ref.subscriptionId)) {
    throw new UsageError('--subscription must be a subscription id (a GUID)');
  }
  if (!RESOURCE_GROUP.test(ref.resourceGroup) || ref.resourceGroup.endsWith('.')) {
    throw new UsageError('--resource-group is not a valid resource group name');
  }
  if (!FUNCTION_APP.test(ref.functionApp)) {
    throw new UsageError('--function-app must be a function app name (letters, digits and hyphens)');
  }
  if (!FUNCTION_NAME.test(ref.functionName)) {
    throw new UsageError('--function-name is not a valid function name');
  }
}

function armBase(baseUrl: string): URL {
  const url = new URL(baseUrl);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new UsageError('the Azure Resource Manager URL must use https');
  }
  return url;
}

function siteUrl(base: URL, ref: FunctionRef): string {
  const segments = [
    'subscriptions',
    ref.subscriptionId,
    'resourceGroups',
    ref.resourceGroup,
    'providers',
    'Microsoft.Web',
    'sites',
    ref.functionApp,
  ];
  return `${base.origin}/${segments.map(encodeURIComponent).join('/')}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `default` when present, else the first (by name) non-empty string entry. */
function pickKey(dictionary: unknown): { name: string; key: string } | undefined {
  if (!isRecord(dictionary)) return undefined;
  const entries = Object.entries(dictionary).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '',
  );
  const chosen =
    entries.find(([name]) => name === 'default') ?? entries.sort(([a], [b]) => a.localeCompare(b))[0];
  return chosen && { name: chosen[0], key: chosen[1] };
}

function functionKeyOf(body: unknown): { name: string; key: string } | undefined {
  if (!isRecord(body)) return undefined;
  return isRecord(body.properties) ? pickKey(body.properties) : pickKey(body);
}

function hostKeyOf(body: unknown): { name: string; key: string } | undefined {
  return isRecord(body) ? pickKey(body.functionKeys) : undefined;
}

/** `HTTP 403 AuthorizationFailed: <message>` from an ARM error body `{ error: { code, message } }`. */
function describeAnswer(answer: ArmAnswer): string {
  if (answer.status === 0) return `no answer (${answer.fault ?? 'network error'})`;
  const error = isRecord(answer.body) && isRecord(answer.body.error) ? answer.body.error : undefined;
  const code = typeof error?.code === 'string' ? ` ${error.code}` : '';
  const message =
    typeof error?.message === 'string' ? `: ${error.message.replace(/\s+/g, ' ').slice(0, 300)}` : '';
  return redactSecrets(`HTTP ${answer.status}${code}${message}`);
}

function retryable(status: number): boolean {
  return (
    status === 0 || status === 401 || status === 403 || status === 408 || status === 429 || status >= 500
  );
}

function firstLine(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  const text = typeof message === 'string' ? message : String(error);
  return (text.split('\n').find((line) => line.trim() !== '') ?? text).trim().slice(0, 300);
}

/** The function's key (or a host function key when the function is not there yet). */
export async function lookUpFunctionKey(
  ref: FunctionRef,
  options: FunctionKeyLookupOptions,
): Promise<FoundFunctionKey> {
  validateFunctionRef(ref);
  const base = armBase(options.baseUrl ?? ARM_BASE_URL);
  const scope = `${base.origin}/.default`;
  const apiVersion = options.apiVersion ?? ARM_WEB_API_VERSION;
  const delays = options.retryDelaysMs ?? DEFAULT_ARM_RETRY_DELAYS_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const dispatcher = options.dispatcher ?? new Agent({ connections: 2 });
  const app = `function app '${ref.functionApp}'`;

  const token = async (): Promise<string> => {
    try {
      const accessToken = await options.credential.getToken(scope);
      if (!accessToken) throw new Error('the credential returned no token');
      return accessToken.token;
    } catch (error) {
      throw new ConfigureError(
        `could not get a Microsoft Entra token for Azure Resource Manager to look up the key of ${app} ` +
          `(sign in with 'az login' or 'azd auth login', or give --function-key): ${redactSecrets(firstLine(error))}`,
      );
    }
  };

  const post = async (url: string): Promise<ArmAnswer> => {
    try {
      const response = await request(`${url}?api-version=${encodeURIComponent(apiVersion)}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await token()}`,
          accept: 'application/json',
          'content-type': 'application/json',
        },
        body: '',
        dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await response.body.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: response.statusCode, body };
    } catch (error) {
      if (error instanceof ConfigureError) throw error;
      const code = (error as { code?: unknown }).code;
      return { status: 0, body: undefined, fault: typeof code === 'string' ? code : firstLine(error) };
    }
  };

  const postWithRetry = async (url: string, what: string): Promise<ArmAnswer> => {
    for (let attempt = 0; ; attempt++) {
      const answer = await post(url);
      if (answer.status >= 200 && answer.status < 300) return answer;
      if (!retryable(answer.status) || attempt >= delays.length) return answer;
      const waitMs = delays[attempt]!;
      options.onNote?.(
        `listing the ${what} keys of ${app} got ${describeAnswer(answer)}; retrying in ${Math.round(waitMs / 1000)} s`,
      );
      await sleep(waitMs);
    }
  };

  const failure = (answer: ArmAnswer, what: string) =>
    new ConfigureError(
      `could not list the ${what} keys of ${app} through Azure Resource Manager: ${describeAnswer(answer)}. ` +
        `Your identity needs a role that allows Microsoft.Web/sites/${what === 'host' ? 'host/listkeys' : 'functions/listkeys'}/action ` +
        '(e.g. Website Contributor), or give the key with --function-key or ALLOCATE_FUNCTION_KEY',
    );

  try {
    const site = siteUrl(base, ref);
    const functionAnswer = await postWithRetry(
      `${site}/functions/${encodeURIComponent(ref.functionName)}/listkeys`,
      'function',
    );
    if (functionAnswer.status === 200) {
      const found = functionKeyOf(functionAnswer.body);
      if (found) return { ...found, source: 'function' };
    } else if (functionAnswer.status !== 404) {
      throw failure(functionAnswer, 'function');
    }
    // The function is not deployed yet (404) or has no key: a host-level function key works for it too.
    options.onNote?.(
      `function '${ref.functionName}' of ${app} has no key to list (not deployed yet?); using a host function key`,
    );
    const hostAnswer = await postWithRetry(`${site}/host/default/listkeys`, 'host');
    if (hostAnswer.status !== 200) throw failure(hostAnswer, 'host');
    const found = hostKeyOf(hostAnswer.body);
    if (!found) throw new ConfigureError(`${app} has no host function key; give --function-key`);
    return { ...found, source: 'host' };
  } finally {
    if (options.dispatcher === undefined) await dispatcher.close();
  }
}
