// What the hub-load tests share: Azurite and the DPS emulator (its IoT hubs on one HTTPS endpoint, told apart by the
// Host header), the app settings that point the hub-load timer and allocate at them, and raw reads of the table.
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type Azurite } from '../../../dev/azurite';
import { FAST_TIMING, startDpsEmulator, type DpsEmulator } from '../../../dev/dps-emulator';
import { createHubLoadTimer, type HubLoadTimer } from '../../../src/hub-load/timer';

export const HUB_A = 'contoso-load-a.azure-devices.net';
export const HUB_B = 'contoso-load-b.azure-devices.net';
export const HUB_C = 'contoso-load-c.azure-devices.net';

export interface HubLoadEnvironment {
  azurite: Azurite;
  emulator: DpsEmulator;
  /** Every hub host name goes to the emulator's one endpoint. */
  originFor: () => string;
  /** App settings of a fresh table prefix: storage, the hubs and their registryRead connection strings. */
  settings(hubs?: readonly string[], overrides?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** A timer on those settings, closed by stop(). */
  timer(env: NodeJS.ProcessEnv): HubLoadTimer;
  stop(): Promise<void>;
}

/** A credential for hubs without a connection string: the emulator takes SAS only. */
export const NO_ENTRA = {
  getToken: () => Promise.reject(new Error('no Microsoft Entra ID in these tests')),
};

export const freshPrefix = () => `H${randomUUID().replace(/-/g, '').slice(0, 12)}`;

export async function startHubLoadEnvironment(
  hubs: readonly string[] = [HUB_A, HUB_B, HUB_C],
): Promise<HubLoadEnvironment> {
  const [azurite, emulator] = await Promise.all([
    startAzurite(),
    startDpsEmulator({ ...FAST_TIMING, linkedHubs: hubs.map((hostName) => ({ hostName })) }),
  ]);
  const timers: HubLoadTimer[] = [];
  return {
    azurite,
    emulator,
    originFor: () => emulator.hubEndpoint,
    settings: (selected = hubs, overrides = {}) => ({
      AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AUDIT_TABLE_PREFIX: freshPrefix(),
      HUB_LOAD_HUBS: selected.join(','),
      HUB_LOAD_CONNECTION_STRINGS: selected
        .map((hub) => emulator.hubConnectionString(hub, 'registryRead'))
        .join('\n'),
      DPS_CA_CERTIFICATE_PATH: emulator.caCertificatePath,
      ...overrides,
    }),
    timer(env) {
      const timer = createHubLoadTimer({
        env,
        client: {
          originFor: () => emulator.hubEndpoint,
          retry: { baseDelayMs: 1, maxDelayMs: 5 },
          // Never DefaultAzureCredential: it would look for a managed identity off this machine.
          credential: NO_ENTRA,
        },
      });
      timers.push(timer);
      return timer;
    },
    async stop() {
      await Promise.all(timers.map((timer) => timer.close()));
      await Promise.all([azurite.stop(), emulator.stop()]);
    },
  };
}

/** Every entity of a table as stored, [] before it exists. */
export async function tableEntities(
  connectionString: string,
  table: string,
): Promise<Record<string, unknown>[]> {
  const client = TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true });
  const rows: Record<string, unknown>[] = [];
  try {
    for await (const entity of client.listEntities()) rows.push(entity as Record<string, unknown>);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return [];
    throw error;
  }
  return rows;
}

/** The log lines a timer run writes. */
export function recordingLog() {
  const lines: { level: 'log' | 'warn'; message: string }[] = [];
  return {
    lines,
    log: (message: string) => lines.push({ level: 'log', message }),
    warn: (message: string) => lines.push({ level: 'warn', message }),
  };
}

/** The SharedAccessKey values of connection strings: what must never be stored or logged. */
export function keysOf(connectionStrings: string): string[] {
  return [...connectionStrings.matchAll(/SharedAccessKey=([^;\n|]+)/g)].map((match) => match[1]!);
}
