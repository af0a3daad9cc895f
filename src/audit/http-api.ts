// The audit's read-only HTTP API (the function files in src/functions/audit-*.ts call these):
//   GET /api/audit                           current problems: filters and continuation paging
//   GET /api/audit/history/{registrationId}  one device's status transitions
//   GET /api/audit/scans                     recent scan runs and where the scan stands
//   GET /api/audit/findings                  enrollment configuration findings
//   GET /api/audit/summary                   counts of the open problems (status, error code, group)
//   GET /api/audit/transitions               the newest status transitions across every device
// Parameters are validated here (400 naming the parameter); values reach OData only escaped and quoted
// (queries.ts). Storage trouble is a 503 the caller may retry; nothing answers with a stack trace.
import { z } from 'zod';
import { redactSecrets } from '../dps/redact';
import { readSettings, SettingsError } from '../settings';
import { AuditConfigurationError } from './connection';
import { AuditQueryError } from './queries';
import {
  booleanInput,
  countInput,
  errorCodeInput,
  firstIssue,
  idInput,
  kindInput,
  pageTokenInput,
  sinceInput,
  statusInput,
} from './query-input';
import {
  DEFAULT_TRANSITIONS,
  DEFAULT_TRANSITIONS_SINCE,
  MAX_TRANSITIONS,
  problemSummary,
  recentTransitions,
} from './overview';
import { enrollmentFindings, problemsPage, registrationHistory, scanRuns, scanStatus } from './read-views';
import { auditStoreFor } from './run-audit';
import { AuditStorageError, type AuditStore } from './store';

/** The parts of an @azure/functions HttpRequest the API reads. */
export interface AuditApiRequest {
  url: string;
  query: URLSearchParams;
  params: Record<string, string>;
}

/** Assignable to @azure/functions HttpResponseInit. */
export interface AuditApiResponse {
  status: number;
  jsonBody: unknown;
  headers: Record<string, string>;
}

/** The InvocationContext log methods the API uses. */
export interface AuditApiLog {
  warn(message: string): void;
  error(message: string): void;
}

export type AuditApiHandler = (request: AuditApiRequest, log: AuditApiLog) => Promise<AuditApiResponse>;

export interface AuditApi {
  problems: AuditApiHandler;
  history: AuditApiHandler;
  scans: AuditApiHandler;
  findings: AuditApiHandler;
  summary: AuditApiHandler;
  transitions: AuditApiHandler;
}

export interface AuditApiOptions {
  /** Default: the store of the app settings in process.env. */
  store?: () => AuditStore;
  now?: () => number;
}

export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_SCAN_COUNT = 20;
/** Seconds a client should wait after a 503. */
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

/** The query parameters, validated by `schema`; unknown or repeated parameters are refused too. */
function readParameters<S extends z.ZodObject>(query: URLSearchParams, schema: S): z.infer<S> {
  const known = Object.keys(schema.shape);
  const values: Record<string, string> = {};
  for (const [name, value] of query) {
    if (HOST_PARAMETERS.has(name)) continue;
    const shown = name.slice(0, 100);
    if (!known.includes(name)) {
      const expected =
        known.length > 0 ? `; known parameters: ${known.join(', ')}` : '; it takes no parameters';
      throw new BadParameter(shown, `unknown parameter '${shown}'${expected}`);
    }
    if (name in values) throw new BadParameter(name, `${name} is given more than once`);
    values[name] = value;
  }
  return parseInput(schema, values);
}

function parseInput<S extends z.ZodType>(schema: S, values: unknown): z.infer<S> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const { name, message } = firstIssue(parsed.error);
  throw new BadParameter(name, `${name} ${message}`);
}

const problemsQuery = (now: () => number) =>
  z.object({
    status: statusInput.optional(),
    group: idInput.optional(),
    kind: kindInput.optional(),
    errorCode: errorCodeInput.optional(),
    since: sinceInput(now).optional(),
    resolved: booleanInput.optional(),
    pageSize: countInput(1000).optional(),
    continuationToken: pageTokenInput.optional(),
  });

/** The URL of the next page: the same filters (a relative `since` pinned to its time), without the function key. */
function nextLink(requestUrl: string, since: Date | undefined, token: string): string {
  const url = new URL(requestUrl);
  const query = new URLSearchParams();
  for (const [name, value] of url.searchParams) {
    if (HOST_PARAMETERS.has(name) || name === 'continuationToken') continue;
    query.set(name, name === 'since' && since ? since.toISOString() : value);
  }
  query.set('continuationToken', token);
  url.search = query.toString();
  return url.toString();
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactSecrets(text.replace(/\s*\n\s*/g, ' '));
}

/** Runs a handler's work; every expected failure becomes a JSON answer without internals. */
async function answer(log: AuditApiLog, work: () => Promise<AuditApiResponse>): Promise<AuditApiResponse> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BadParameter) {
      return respond(400, { error: error.message, parameter: error.parameter });
    }
    if (error instanceof AuditQueryError) return respond(400, { error: error.message });
    if (error instanceof AuditStorageError) {
      log.warn(`Audit API: ${describe(error)}`);
      return respond(
        503,
        { error: 'The audit tables cannot be read right now; try again later.', retryable: true },
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    }
    if (error instanceof AuditConfigurationError || error instanceof SettingsError) {
      log.error(`Audit API: ${describe(error)}`);
      return respond(500, {
        error: `The audit is not configured: ${describe(error.message)}`,
        retryable: false,
      });
    }
    log.error(`Audit API: unexpected ${describe(error)}`);
    return respond(500, { error: 'Internal error.', retryable: false });
  }
}

function storeFromSettings(): AuditStore {
  return auditStoreFor(readSettings(process.env), process.env);
}

export function createAuditApi(options: AuditApiOptions = {}): AuditApi {
  const store = options.store ?? storeFromSettings;
  const now = options.now ?? Date.now;
  const problemsSchema = problemsQuery(now);
  const historyQuery = z.object({ group: idInput.optional() });
  const historyPath = z.object({ registrationId: idInput });
  const scansQuery = z.object({ limit: countInput(1000).optional() });
  const findingsQuery = z.object({ kind: kindInput.optional(), onlyWithFindings: booleanInput.optional() });
  const summaryQuery = z.object({});
  const transitionsQuery = z.object({
    // prefault: the default goes through the parser, so a relative `since` is resolved at request time.
    since: sinceInput(now).prefault(DEFAULT_TRANSITIONS_SINCE),
    limit: countInput(MAX_TRANSITIONS).prefault(String(DEFAULT_TRANSITIONS)),
  });

  return {
    problems: (request, log) =>
      answer(log, async () => {
        const { pageSize, continuationToken, ...filters } = readParameters(request.query, problemsSchema);
        const page = await problemsPage(store(), filters, {
          pageSize: pageSize ?? DEFAULT_PAGE_SIZE,
          continuationToken,
        });
        const token = page.continuationToken;
        return respond(200, {
          items: page.items,
          continuationToken: token ?? null,
          next: token === undefined ? null : nextLink(request.url, filters.since, token),
        });
      }),

    history: (request, log) =>
      answer(log, async () => {
        const { registrationId } = parseInput(historyPath, { registrationId: request.params.registrationId });
        const { group } = readParameters(request.query, historyQuery);
        const items = await registrationHistory(store(), registrationId, { group });
        return respond(200, { registrationId, items });
      }),

    scans: (request, log) =>
      answer(log, async () => {
        const { limit } = readParameters(request.query, scansQuery);
        const audit = store();
        const [items, state] = await Promise.all([
          scanRuns(audit, limit ?? DEFAULT_SCAN_COUNT),
          scanStatus(audit, now()),
        ]);
        return respond(200, { items, state });
      }),

    findings: (request, log) =>
      answer(log, async () => {
        const filters = readParameters(request.query, findingsQuery);
        return respond(200, { items: await enrollmentFindings(store(), filters) });
      }),

    summary: (request, log) =>
      answer(log, async () => {
        readParameters(request.query, summaryQuery);
        return respond(200, await problemSummary(store(), now()));
      }),

    transitions: (request, log) =>
      answer(log, async () => {
        const { since, limit } = readParameters(request.query, transitionsQuery);
        return respond(200, await recentTransitions(store(), { since, limit }));
      }),
  };
}

/** The API on the app settings of process.env, as the function files serve it. */
export const auditApi = createAuditApi();
