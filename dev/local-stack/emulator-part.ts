// The DPS emulator with hubs named as in Microsoft's custom allocation tutorial, its state and certificate in the
// stack's data folder (so connection strings and the trusted certificate survive restarts), and a connection file.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DpsEmulator, LinkedHub, QuotasOption } from '../dps-emulator';
import {
  DEFAULT_MQTT_PORT,
  DEFAULT_MQTT_WEBSOCKET_PORT,
  startOnStandardPorts,
} from '../dps-emulator/standard-ports';
import { readyLine } from '../dps-emulator/cli';
import { describeTiming } from '../dps-emulator/timing';
import { HEATPUMPS_HUB, TOASTERS_HUB } from '../fixtures/dps-requests';
import type { LocalStackPaths } from './paths';
import { displayPath } from './paths';
import type { LocalStackPart } from './types';
import { EU_HUB, US_HUB } from './x509-demo-fleet';

export { HEATPUMPS_HUB, TOASTERS_HUB };
export const GENERAL_HUBS = [
  'contoso-general-hub-1.azure-devices.net',
  'contoso-general-hub-2.azure-devices.net',
] as const;

export const LOCAL_LINKED_HUBS: readonly LinkedHub[] = [
  TOASTERS_HUB,
  HEATPUMPS_HUB,
  ...GENERAL_HUBS,
  EU_HUB,
  US_HUB,
].map((hostName) => ({ hostName }));

export interface EmulatorPart extends LocalStackPart {
  emulator: DpsEmulator;
}

/** Request lines (`PUT /... -> 202`) are left out; errors (internal error, could not save) are kept. */
function emulatorErrorsOnly(log: (line: string) => void): (line: string) => void {
  return (line) => {
    if (!/ -> \d{3}$/.test(line)) log(line);
  };
}

export async function startEmulatorPart(options: {
  port: number;
  /** Default DEFAULT_MQTT_PORT; any free port when `port` is 0. */
  mqttPort?: number;
  /** Default 443 where it can be bound; any free port when `port` is 0. */
  mqttWebSocketPort?: number;
  paths: LocalStackPaths;
  appRoot: string;
  /** Default: the emulator's (DPS-like). */
  retryAfterSeconds?: number;
  assignmentDelayMs?: number;
  quotas?: QuotasOption;
  /** Azurite's connection string (with its BlobEndpoint): the emulator archives its resource logs there. */
  resourceLogsConnectionString?: string;
  log: (line: string) => void;
}): Promise<EmulatorPart> {
  const { paths } = options;
  let emulator: DpsEmulator;
  let webSocketFallback: string | undefined;
  const anyPort = options.port === 0;
  try {
    ({ emulator, webSocketFallback } = await startOnStandardPorts(
      {
        port: options.port,
        mqttPort: options.mqttPort ?? (anyPort ? 0 : DEFAULT_MQTT_PORT),
        mqttWebSocketPort: options.mqttWebSocketPort ?? (anyPort ? 0 : DEFAULT_MQTT_WEBSOCKET_PORT),
        dataFile: paths.emulatorStateFile,
        certificateDir: paths.emulatorDir,
        linkedHubs: LOCAL_LINKED_HUBS.map((hub) => ({ ...hub })),
        retryAfterSeconds: options.retryAfterSeconds,
        assignmentDelayMs: options.assignmentDelayMs,
        quotas: options.quotas,
        ...(options.resourceLogsConnectionString
          ? { resourceLogs: { connectionString: options.resourceLogsConnectionString } }
          : {}),
        log: emulatorErrorsOnly(options.log),
      },
      options.mqttWebSocketPort !== undefined,
    ));
  } catch (error) {
    const message = (error as Error).message;
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(message)?.[1] ?? options.port);
    const flag =
      port === options.port
        ? '--dps-port'
        : port === DEFAULT_MQTT_WEBSOCKET_PORT
          ? '--mqtt-ws-port'
          : '--mqtt-port';
    throw new Error(
      /EADDRINUSE/.test(message)
        ? `The DPS emulator cannot listen on 127.0.0.1:${port}: the port is in use (another ` +
            `\`npm run dps-emulator\`?). Stop it, or give ${flag} <n> (0 = any free port).`
        : `The DPS emulator did not start: ${message}`,
      { cause: error },
    );
  }
  try {
    await mkdir(path.dirname(paths.emulatorConnectionFile), { recursive: true });
    await writeFile(paths.emulatorConnectionFile, `${readyLine(emulator)}\n`, { mode: 0o600 });
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  const shown = (target: string) => displayPath(options.appRoot, target);
  return {
    name: 'DPS emulator',
    emulator,
    banner: [
      `DPS emulator: ${emulator.deviceEndpoint} (device and service APIs), id scope ${emulator.idScope}, ` +
        `state in ${shown(paths.emulatorStateFile)}`,
      `  MQTT: ${emulator.mqttEndpoint}, over WebSocket ${emulator.mqttWebSocketEndpoint} (username ` +
        '{idScope}/registrations/{registrationId}/api-version=2019-03-31; the device SAS token as password, or ' +
        'none and a TLS client certificate)',
      ...(webSocketFallback ? [`  ${webSocketFallback}`] : []),
      `  linked hubs: ${emulator.linkedHubs.map((hub) => hub.hostName).join(', ')}`,
      `  device timing: ${describeTiming(emulator.timing)}`,
      ...(emulator.resourceLogs
        ? [
            `  DeviceOperations resource logs (attestation attempts): Azurite blob container ` +
              `${emulator.resourceLogs.container}, ${emulator.resourceLogs.blobPrefix}`,
          ]
        : []),
      `  connection strings (secret): ${shown(paths.emulatorConnectionFile)}; CA certificate: ` +
        shown(emulator.caCertificatePath),
    ],
    stop: () => emulator.stop(),
  };
}
