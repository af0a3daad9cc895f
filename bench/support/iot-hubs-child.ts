// Child process of the hub-load benchmark: the DPS emulator with `count` linked IoT hubs (its IoT Hub emulator
// serves them all on one HTTPS endpoint), each seeded with devices, so that the hub-load timer being measured does
// not share an event loop with it. Protocol of bench/support/child-process.ts: `ready` carries the endpoint, the CA
// certificate, the host names and their registryRead connection strings. Argument: the number of hubs.
import { FAST_TIMING, startDpsEmulator } from '../../dev/dps-emulator';
import { failedToStart, serveBenchChild } from './serve-child';

export interface IotHubsReady {
  type: 'ready';
  /** `https://127.0.0.1:PORT`: every hub, told apart by the Host header. */
  hubEndpoint: string;
  caCertificatePem: string;
  hostNames: string[];
  /** registryRead policy, one per hub (bench-only keys of a throwaway emulator). */
  connectionStrings: string[];
}

async function main(count: number): Promise<void> {
  const hostNames = Array.from({ length: count }, (_, i) => `bench-load-${i + 1}.azure-devices.net`);
  const emulator = await startDpsEmulator({
    ...FAST_TIMING,
    linkedHubs: hostNames.map((hostName) => ({ hostName })),
  });
  hostNames.forEach((hostName, i) => emulator.hubs.registry(hostName).seedDevices(100 + 10 * i, 'bench-'));
  const ready: IotHubsReady = {
    type: 'ready',
    hubEndpoint: emulator.hubEndpoint,
    caCertificatePem: emulator.caCertificatePem,
    hostNames,
    connectionStrings: hostNames.map((hostName) => emulator.hubConnectionString(hostName, 'registryRead')),
  };
  serveBenchChild({ ready, stop: () => emulator.stop(), usageExtra: () => ({}) });
}

main(Number(process.argv[2] ?? 50)).catch((error: unknown) => failedToStart('IoT Hub emulator', error));
