// allocate's HubLoadCache from the app settings: none when HUB_LOAD_HUBS is empty. The table SDK is loaded on the
// first refresh (the next turn of the event loop), not with the function module. Without a storage account the
// cache warns once and allocation goes on without counts.
import type { Settings } from '../settings';
import { HubLoadCache, type HubLoadNotices } from './cache';
import type * as StoreModule from './store';
import { hubLoadTableName } from './table';

export interface HubLoadCacheSettingsOptions {
  notices: HubLoadNotices;
}

/** A refresh must not hold a worker's sockets for long: storage that does not answer is tried on the next one. */
const REFRESH_RETRY = {
  maxRetries: 1,
  retryDelayInMs: 200,
  maxRetryDelayInMs: 1_000,
  attemptTimeoutMs: 5_000,
};

export function hubLoadCacheFromSettings(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  options: HubLoadCacheSettingsOptions,
): HubLoadCache | undefined {
  const hubs = settings.HUB_LOAD_HUBS ?? [];
  if (hubs.length === 0) return undefined;
  let store: StoreModule.HubLoadStore | undefined;
  return new HubLoadCache({
    hubs,
    refreshMs: settings.HUB_LOAD_REFRESH_SECONDS * 1000,
    maxAgeMs: settings.HUB_LOAD_MAX_AGE_SECONDS * 1000,
    notices: options.notices,
    source: hubLoadTableName(settings.AUDIT_TABLE_PREFIX),
    async read(signal) {
      if (!store) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { hubLoadStoreFor } = require('./store') as typeof StoreModule;
        store = hubLoadStoreFor(settings, env, { retry: REFRESH_RETRY });
      }
      return store.readRows(signal);
    },
  });
}
