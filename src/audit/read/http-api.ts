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
import { booleanInput, countInput, pageTokenInput, sinceInput } from '../../http/inputs';
import { answer, fromAppSettings, type JsonApiHandler, type JsonApiNames } from '../../http/json-api';
import { nextPageLink } from '../../http/paging';
import { parseInput, readParameters } from '../../http/parameters';
import { respond } from '../../http/response';
import { auditStoreFor } from '../store';
import type { AuditStore } from '../store';
import { errorCodeInput, idInput, kindInput, statusInput } from './inputs';
import {
  DEFAULT_TRANSITIONS,
  DEFAULT_TRANSITIONS_SINCE,
  MAX_TRANSITIONS,
  problemSummary,
  recentTransitions,
} from './overview';
import { enrollmentFindings, problemsPage, registrationHistory, scanRuns, scanStatus } from './views';

export interface AuditApi {
  problems: JsonApiHandler;
  history: JsonApiHandler;
  scans: JsonApiHandler;
  findings: JsonApiHandler;
  summary: JsonApiHandler;
  transitions: JsonApiHandler;
}

export interface AuditApiOptions {
  /** Default: the store of the app settings in process.env. */
  store?: () => AuditStore;
  now?: () => number;
}

export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_SCAN_COUNT = 20;
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

const AUDIT_API: JsonApiNames = {
  api: 'Audit API',
  unavailable: 'The audit tables cannot be read right now; try again later.',
  notConfigured: 'The audit is not configured',
};
export function createAuditApi(options: AuditApiOptions = {}): AuditApi {
  const store = options.store ?? fromAppSettings((settings, env) => auditStoreFor(settings, env, 'reads'));
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
      answer(AUDIT_API, log, async () => {
        const { pageSize, continuationToken, ...filters } = readParameters(request.query, problemsSchema);
        const page = await problemsPage(store(), filters, {
          pageSize: pageSize ?? DEFAULT_PAGE_SIZE,
          continuationToken,
        });
        const token = page.continuationToken;
        return respond(200, {
          items: page.items,
          continuationToken: token ?? null,
          next: token === undefined ? null : nextPageLink(request.url, token, { since: filters.since }),
        });
      }),

    history: (request, log) =>
      answer(AUDIT_API, log, async () => {
        const { registrationId } = parseInput(historyPath, { registrationId: request.params.registrationId });
        const { group } = readParameters(request.query, historyQuery);
        const items = await registrationHistory(store(), registrationId, { group });
        return respond(200, { registrationId, items });
      }),

    scans: (request, log) =>
      answer(AUDIT_API, log, async () => {
        const { limit } = readParameters(request.query, scansQuery);
        const audit = store();
        const [items, state] = await Promise.all([
          scanRuns(audit, limit ?? DEFAULT_SCAN_COUNT),
          scanStatus(audit, now()),
        ]);
        return respond(200, { items, state });
      }),

    findings: (request, log) =>
      answer(AUDIT_API, log, async () => {
        const filters = readParameters(request.query, findingsQuery);
        return respond(200, { items: await enrollmentFindings(store(), filters) });
      }),

    summary: (request, log) =>
      answer(AUDIT_API, log, async () => {
        readParameters(request.query, summaryQuery);
        return respond(200, await problemSummary(store(), now()));
      }),

    transitions: (request, log) =>
      answer(AUDIT_API, log, async () => {
        const { since, limit } = readParameters(request.query, transitionsQuery);
        return respond(200, await recentTransitions(store(), { since, limit }));
      }),
  };
}

/** The API on the app settings of process.env, as the function files serve it. */
export const auditApi = createAuditApi();
