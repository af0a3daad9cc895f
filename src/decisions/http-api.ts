// The decision log's read-only HTTP API (src/functions/decisions*.ts call these), in the audit API's style:
//   GET /api/decisions?since=1h&until=&outcome=&hub=&limit=100&continuationToken=
//       -> { items: DecisionView[], continuationToken: string | null, next: string | null }, oldest first
//   GET /api/decisions/summary?since=1h&until=
//       -> { since, until, total, outcomes: { assigned, rejected, 'invalid-request' }, hubs: [{ hub, count }] }
// A bad parameter is a 400 naming it; unreadable storage a 503 with Retry-After; every answer Cache-Control
// no-store; nothing answers with a stack trace.
import { z } from 'zod';
import { AuditConfigurationError } from '../audit/connection';
import type { AuditApiLog, AuditApiRequest, AuditApiResponse } from '../audit/http-api';
import { AuditQueryError } from '../audit/queries';
import { countInput, firstIssue, pageTokenInput, sinceInput } from '../audit/query-input';
import { AuditStorageError } from '../audit/store';
import { redactSecrets } from '../dps/redact';
import { readSettings, SettingsError } from '../settings';
import { decisionSummary, MAX_DECISION_PAGE, MAX_SUMMARY_DAYS, readDecisions } from './queries';
import { decisionStoreFor, type DecisionStore } from './store';
import { OUTCOMES } from './table';

export type DecisionsApiHandler = (request: AuditApiRequest, log: AuditApiLog) => Promise<AuditApiResponse>;

export interface DecisionsApi {
  list: DecisionsApiHandler;
  summary: DecisionsApiHandler;
}

export interface DecisionsApiOptions {
  /** Default: the store of the app settings in process.env. */
  store?: () => DecisionStore;
  now?: () => number;
}

export const DEFAULT_DECISIONS_SINCE = '1h';
export const DEFAULT_DECISIONS_LIMIT = 100;
const RETRY_AFTER_SECONDS = 30;
/** Query parameters the Functions host consumes: `code` is the function key. */
const HOST_PARAMETERS = new Set(['code']);

class BadParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

function respond(status: number, jsonBody: unknown, headers: Record<string, string> = {}): AuditApiResponse {
  return { status, jsonBody, headers: { 'Cache-Control': 'no-store', ...headers } };
}

/** The query parameters through `schema`; unknown or repeated parameters are refused too. */
function readParameters<S extends z.ZodObject>(query: URLSearchParams, schema: S): z.infer<S> {
  const known = Object.keys(schema.shape);
  const values: Record<string, string> = {};
  for (const [name, value] of query) {
    if (HOST_PARAMETERS.has(name)) continue;
    const shown = name.slice(0, 100);
    if (!known.includes(name)) {
      throw new BadParameter(shown, `unknown parameter '${shown}'; known parameters: ${known.join(', ')}`);
    }
    if (name in values) throw new BadParameter(name, `${name} is given more than once`);
    values[name] = value;
  }
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const { name, message } = firstIssue(parsed.error);
  throw new BadParameter(name, `${name} ${message}`);
}

const outcomeInput = z.enum(OUTCOMES, { error: `must be one of ${OUTCOMES.join(', ')}` });
/** A hub host name; it only ever reaches OData quoted and escaped. */
const hubInput = z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters');

/** A range whose end is not after its start names `until`; a summary longer than allowed names `since`. */
function checkRange(since: Date, until: Date | undefined, now: number, maxDays?: number): void {
  const end = until?.getTime() ?? now;
  if (until !== undefined && end <= since.getTime()) {
    throw new BadParameter('until', 'until must be later than since');
  }
  if (maxDays !== undefined && end - since.getTime() > maxDays * 86_400_000) {
    throw new BadParameter('since', `since must be at most ${maxDays} days before until (or now)`);
  }
}

/** The URL of the next page: the same parameters (relative times pinned), without the function key. */
function nextLink(requestUrl: string, pinned: { since: Date; until?: Date }, token: string): string {
  const url = new URL(requestUrl);
  const query = new URLSearchParams();
  for (const [name, value] of url.searchParams) {
    if (HOST_PARAMETERS.has(name) || name === 'continuationToken' || name === 'since' || name === 'until') {
      continue;
    }
    query.set(name, value);
  }
  query.set('since', pinned.since.toISOString());
  if (pinned.until) query.set('until', pinned.until.toISOString());
  query.set('continuationToken', token);
  url.search = query.toString();
  return url.toString();
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactSecrets(text.replace(/\s*\n\s*/g, ' '));
}

async function answer(log: AuditApiLog, work: () => Promise<AuditApiResponse>): Promise<AuditApiResponse> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BadParameter) {
      return respond(400, { error: error.message, parameter: error.parameter });
    }
    if (error instanceof AuditQueryError) return respond(400, { error: error.message });
    if (error instanceof AuditStorageError) {
      log.warn(`Decisions API: ${describe(error)}`);
      return respond(
        503,
        { error: 'The decision table cannot be read right now; try again later.', retryable: true },
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    }
    if (error instanceof AuditConfigurationError || error instanceof SettingsError) {
      log.error(`Decisions API: ${describe(error)}`);
      return respond(500, {
        error: `The decision log is not configured: ${describe(error.message)}`,
        retryable: false,
      });
    }
    log.error(`Decisions API: unexpected ${describe(error)}`);
    return respond(500, { error: 'Internal error.', retryable: false });
  }
}

function storeFromSettings(): DecisionStore {
  return decisionStoreFor(readSettings(process.env), process.env);
}

/** The query schemas, with relative times taken back from `now` (one instant per request). */
function querySchemas(now: () => number) {
  // prefault: the default goes through the parser, so a relative `since` is resolved at request time.
  const since = sinceInput(now).prefault(DEFAULT_DECISIONS_SINCE);
  return {
    list: z.object({
      since,
      until: sinceInput(now).optional(),
      outcome: outcomeInput.optional(),
      hub: hubInput.optional(),
      limit: countInput(MAX_DECISION_PAGE).prefault(String(DEFAULT_DECISIONS_LIMIT)),
      continuationToken: pageTokenInput.optional(),
    }),
    summary: z.object({ since, until: sinceInput(now).optional() }),
  };
}

export function createDecisionsApi(options: DecisionsApiOptions = {}): DecisionsApi {
  const store = options.store ?? storeFromSettings;
  const clock = options.now ?? Date.now;

  return {
    list: (request, log) =>
      answer(log, async () => {
        const at = clock();
        const { continuationToken, ...query } = readParameters(request.query, querySchemas(() => at).list);
        checkRange(query.since, query.until, at);
        const page = await readDecisions(store(), { ...query, continuationToken });
        const token = page.continuationToken;
        return respond(200, {
          items: page.items,
          continuationToken: token ?? null,
          next: token === undefined ? null : nextLink(request.url, query, token),
        });
      }),

    summary: (request, log) =>
      answer(log, async () => {
        const at = clock();
        const query = readParameters(request.query, querySchemas(() => at).summary);
        checkRange(query.since, query.until, at, MAX_SUMMARY_DAYS);
        return respond(200, await decisionSummary(store(), query, () => at));
      }),
  };
}

/** The API on the app settings of process.env, as the function files serve it. */
export const decisionsApi = createDecisionsApi();
