// The hubs' read-only HTTP API, in the audit API's style (src/functions/audit-hubs.ts calls it):
//   GET /api/hubs -> HubsReport: per hub its device count, cap, fill, drain flag and the count's age
// Unreadable storage is a 503 with Retry-After; missing settings a 500 naming them; every answer Cache-Control
// no-store.
import { z } from 'zod';
import { answer, type JsonApiHandler, type JsonApiNames } from '../http/json-api';
import { readParameters } from '../http/parameters';
import { respond } from '../http/response';
import { readSettings, type Settings } from '../settings';
import { readHubsReport } from './read-report';
import { hubLoadReadStoreFor, type HubLoadStore } from './store';

export interface HubsApi {
  hubs: JsonApiHandler;
}

export interface HubsApiOptions {
  /** Default: the settings of process.env, read per request. */
  settings?: () => Settings;
  /** Default: the store of those settings. */
  store?: (settings: Settings) => Pick<HubLoadStore, 'readRows'>;
  now?: () => number;
}

const HUBS_API: JsonApiNames = {
  api: 'Hubs API',
  unavailable: 'The hub load table cannot be read right now; try again later.',
  notConfigured: 'The hub load is not configured',
};

export function createHubsApi(options: HubsApiOptions = {}): HubsApi {
  const settings = options.settings ?? (() => readSettings(process.env));
  const store = options.store ?? ((current: Settings) => hubLoadReadStoreFor(current, process.env));
  const now = options.now ?? Date.now;
  return {
    hubs: (request, log) =>
      answer(HUBS_API, log, async () => {
        readParameters(request.query, z.object({}));
        const current = settings();
        return respond(200, await readHubsReport(store(current), current, now()));
      }),
  };
}

/** The API on the app settings of process.env, as the function file serves it. */
export const hubsApi = createHubsApi();
