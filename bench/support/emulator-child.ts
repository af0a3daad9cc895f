// Child process of the DPS benchmarks: the DPS emulator, started from the emulator CLI's own flags (parsed by
// dev/dps-emulator/cli.ts, e.g. `--retry-after 0 --seed-groups 1 --seed-per-group assigned=900,failed=100`), so
// that the client being measured does not share an event loop with it. Unlike the CLI it talks over IPC (see
// bench/support/child-process.ts): the ready message carries the connection details, the CA certificate and the
// seeding result; 'usage' also returns the emulator's counters since the previous 'usage'. The certificate goes
// to a temporary directory removed on stop unless --cert-dir is given. Nothing of the environment is read.
import { setMaxListeners } from 'node:events';
import { parseCliArguments } from '../../dev/dps-emulator/cli';
import {
  startDpsEmulator,
  type DpsEmulator,
  type EmulatorStats,
  type EmulatorTiming,
  type SeedResult,
} from '../../dev/dps-emulator';
import type { ChildUsage } from './child-process';
import { failedToStart, serveBenchChild } from './serve-child';

export interface EmulatorReady {
  type: 'ready';
  /** `https://127.0.0.1:PORT` */
  deviceEndpoint: string;
  port: number;
  /** The device API over MQTT (TLS) and over WebSocket, on 127.0.0.1. */
  mqttPort: number;
  mqttWebSocketPort: number;
  /** Assignment delay, retry-after and quotas the emulator runs with (its flags, else DPS-like defaults). */
  timing: EmulatorTiming;
  idScope: string;
  /** Owner policy, `HostName=127.0.0.1:PORT;...` (this project's client). */
  serviceConnectionString: string;
  /** Owner policy, `HostName=localhost;...` (the official SDK, through a PortAgent). */
  sdkServiceConnectionString: string;
  caCertificatePem: string;
  linkedHubs: string[];
  seed: SeedResult | undefined;
}

export interface EmulatorUsage extends ChildUsage {
  /** The emulator's counters since the previous 'usage' (they are reset on every 'usage'). */
  stats: EmulatorStats;
}

async function start(argv: string[]): Promise<{ emulator: DpsEmulator; seed: SeedResult | undefined }> {
  const config = parseCliArguments(argv, {});
  if (!argv.includes('--cert-dir')) delete config.options.certificateDir;
  const emulator = await startDpsEmulator(config.options);
  try {
    return { emulator, seed: config.seed ? emulator.seed(config.seed) : undefined };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}

async function main(argv: string[]): Promise<void> {
  // The emulator's abortable waits (an assignment delay, a webhook retry) each listen to its one stop signal:
  // hundreds of devices assigning at once, as with DPS timing, are not a listener leak.
  setMaxListeners(10_000);
  const { emulator, seed } = await start(argv);
  const ready: EmulatorReady = {
    type: 'ready',
    deviceEndpoint: emulator.deviceEndpoint,
    port: emulator.port,
    mqttPort: emulator.mqttPort,
    mqttWebSocketPort: emulator.mqttWebSocketPort,
    timing: emulator.timing,
    idScope: emulator.idScope,
    serviceConnectionString: emulator.serviceConnectionString,
    sdkServiceConnectionString: emulator.sdkServiceConnectionString,
    caCertificatePem: emulator.caCertificatePem,
    linkedHubs: emulator.linkedHubs.map((hub) => hub.hostName),
    seed,
  };
  serveBenchChild({
    ready,
    stop: () => emulator.stop(),
    usageExtra: (): Pick<EmulatorUsage, 'stats'> => {
      const stats = emulator.stats;
      emulator.resetStats();
      return { stats };
    },
  });
}

main(process.argv.slice(2)).catch((error: unknown) => failedToStart('DPS emulator', error));
