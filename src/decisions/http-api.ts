// The decision log's read-only HTTP API (src/functions/decisions*.ts call these), in the audit API's style:
//   GET /api/decisions?since=1h&until=&outcome=&hub=&limit=100&continuationToken=
//       -> { items: DecisionView[], continuationToken: string | null, next: string | null }, oldest first
//   GET /api/decisions/summary?since=1h&until=
//       -> { since, until, total, outcomes: { assigned, rejected, 'invalid-request' }, hubs: [{ hub, count }] }
// A bad parameter is a 400 naming it; unreadable storage a 503 with Retry-After; every answer Cache-Control
// no-store; nothing answers with a stack trace.
import { z } from 'zod';
import { countInput, pageTokenInput, sinceInput } from '../http/inputs';
import { answer, fromAppSettings, type JsonApiHandler, type JsonApiNames } from '../http/json-api';
import { nextPageLink } from '../http/paging';
import { BadParameter, readParameters } from '../http/parameters';
import { respond } from '../http/response';
import { decisionSummary, MAX_DECISION_PAGE, MAX_SUMMARY_DAYS, readDecisions } from './queries';
import { decisionStoreFor, type DecisionStore } from './store';
import { OUTCOMES } from './table';

export interface DecisionsApi {
  list: JsonApiHandler;
  summary: JsonApiHandler;
}

export interface DecisionsApiOptions {
  /** Default: the store of the app settings in process.env. */
  store?: () => DecisionStore;
  now?: () => number;
}

export const DEFAULT_DECISIONS_SINCE = '1h';
export const DEFAULT_DECISIONS_LIMIT = 100;
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

const DECISIONS_API: JsonApiNames = {
  api: 'Decisions API',
  unavailable: 'The decision table cannot be read right now; try again later.',
  notConfigured: 'The decision log is not configured',
};
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
  const store = options.store ?? fromAppSettings(decisionStoreFor);
  const clock = options.now ?? Date.now;

  return {
    list: (request, log) =>
      answer(DECISIONS_API, log, async () => {
        const at = clock();
        const { continuationToken, ...query } = readParameters(request.query, querySchemas(() => at).list);
        checkRange(query.since, query.until, at);
        const page = await readDecisions(store(), { ...query, continuationToken });
        const token = page.continuationToken;
        return respond(200, {
          items: page.items,
          continuationToken: token ?? null,
          next:
            token === undefined
              ? null
              : nextPageLink(request.url, token, { since: query.since, until: query.until }),
        });
      }),

    summary: (request, log) =>
      answer(DECISIONS_API, log, async () => {
        const at = clock();
        const query = readParameters(request.query, querySchemas(() => at).summary);
        checkRange(query.since, query.until, at, MAX_SUMMARY_DAYS);
        return respond(200, await decisionSummary(store(), query, () => at));
      }),
  };
}

/** The API on the app settings of process.env, as the function files serve it. */
export const decisionsApi = createDecisionsApi();
