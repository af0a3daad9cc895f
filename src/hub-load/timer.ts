// The hub-load timer's work (src/functions/hub-load.ts runs it on HUB_LOAD_SCHEDULE), built once per worker from the
// app settings so that connection pools and tokens last across runs. HUB_LOAD_HUBS empty: a run does nothing.
import { readFileSync } from 'node:fs';
import { readSettings, type Settings } from '../settings';
import { readHubLoad, type HubLoadRun } from './read-hubs';
import { HubStatisticsClient, type HubStatisticsClientOptions } from './statistics-client';
import { hubLoadStoreFor, type HubLoadStore } from './store';

/** The InvocationContext log methods the timer uses. */
export interface HubLoadLog {
  log(message: string): void;
  warn(message: string): void;
}

export interface HubLoadTimer {
  /** One run; undefined when HUB_LOAD_HUBS is empty. Rejects when the table cannot be read or written. */
  run(log: HubLoadLog): Promise<HubLoadRun | undefined>;
  close(): Promise<void>;
}

export interface HubLoadTimerOptions {
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Client options beyond the settings (tests and benchmarks point hub host names at the emulator). */
  client?: Omit<HubStatisticsClientOptions, 'connectionStrings' | 'caCertificate'>;
  store?: HubLoadStore;
}

function clientFrom(settings: Settings, options: HubLoadTimerOptions['client']): HubStatisticsClient {
  const caPath = settings.DPS_CA_CERTIFICATE_PATH;
  const endpoint = settings.HUB_LOAD_ENDPOINT;
  return new HubStatisticsClient({
    // The local IoT Hub emulator serves every hub on one endpoint (HUB_LOAD_ENDPOINT, never set in Azure).
    ...(endpoint === undefined ? {} : { originFor: () => endpoint.replace(/\/+$/, '') }),
    ...options,
    connectionStrings: settings.HUB_LOAD_CONNECTION_STRINGS,
    // The local emulators share one self-signed CA (DPS_CA_CERTIFICATE_PATH).
    caCertificate: caPath === undefined ? undefined : readFileSync(caPath),
  });
}

export function createHubLoadTimer(options: HubLoadTimerOptions = {}): HubLoadTimer {
  const env = options.env ?? process.env;
  const settings = readSettings(env);
  const hubs = settings.HUB_LOAD_HUBS ?? [];
  let client: HubStatisticsClient | undefined;
  let store = options.store;
  return {
    async run(log) {
      if (hubs.length === 0) return undefined;
      client ??= clientFrom(settings, options.client);
      store ??= hubLoadStoreFor(settings, env);
      const run = await readHubLoad(hubs, { statistics: client, store });
      const line = JSON.stringify(run);
      if (run.failed > 0) log.warn(line);
      else log.log(line);
      return run;
    },
    async close() {
      await client?.close();
      client = undefined;
    },
  };
}
