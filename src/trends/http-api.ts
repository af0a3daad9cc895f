// The roll-up's read-only HTTP API (src/functions/trends.ts serves it), in the audit API's style:
//   GET /api/trends?days=30 (1 to 90) -> TrendsView (view.ts)
// A bad parameter is a 400 naming it; unreadable storage a 503 with Retry-After (http/json-api.ts).
import { z } from 'zod';
import { countInput } from '../http/inputs';
import { answer, fromAppSettings, type JsonApiHandler, type JsonApiNames } from '../http/json-api';
import { readParameters } from '../http/parameters';
import { respond } from '../http/response';
import { trendsSourcesFor, type TrendsStore } from './store';
import { DEFAULT_TREND_DAYS, MAX_TREND_DAYS, readTrends } from './view';

export interface TrendsApiOptions {
  /** Default: the store of the app settings in process.env. */
  store?: () => TrendsStore;
  now?: () => number;
}

const TRENDS_API: JsonApiNames = {
  api: 'Trends API',
  unavailable: 'The trends table cannot be read right now; try again later.',
  notConfigured: 'The trends are not configured',
};

const querySchema = z.object({ days: countInput(MAX_TREND_DAYS).prefault(String(DEFAULT_TREND_DAYS)) });

export function createTrendsApi(options: TrendsApiOptions = {}): { get: JsonApiHandler } {
  const store =
    options.store ?? fromAppSettings((settings, env) => trendsSourcesFor(settings, env, 'reads').trends);
  const now = options.now ?? Date.now;
  return {
    get: (request, log) =>
      answer(TRENDS_API, log, async () => {
        const { days } = readParameters(request.query, querySchema);
        return respond(200, await readTrends(store(), days, now));
      }),
  };
}

/** The API on the app settings of process.env, as the function file serves it. */
export const trendsApi = createTrendsApi();
