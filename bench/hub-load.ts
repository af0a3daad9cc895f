// The hub-load benchmark: leastLoaded's decide() rate against hashed, allocate's latency with the hub-load cache
// refreshing in the background against Azurite, and the hub-load timer's cost for 50 hubs against the IoT Hub
// emulator. Azurite and the emulator run in child processes.
import path from 'node:path';
import type { BenchModule } from './figures';
import { measureDecide } from './hub-load-decide';
import { measureTimer } from './hub-load-timer';
import { measureWebhookWithRefresh } from './hub-load-webhook';
import type { AzuriteReady } from './support/azurite-child';
import { startBenchChild, stopBenchChild, type BenchChild } from './support/child-process';
import type { IotHubsReady } from './support/iot-hubs-child';

const LINKED_HUB_LIMIT = 50;

export const hubLoadBench: BenchModule = {
  name: 'hub-load',
  description:
    'hub load: leastLoaded decide()/s vs hashed, allocate p99 with the background refresh, timer cost for 50 hubs',
  async run(options) {
    const decide = await measureDecide(options);
    let azurite: BenchChild<AzuriteReady> | undefined;
    let hubs: BenchChild<IotHubsReady> | undefined;
    try {
      [azurite, hubs] = await Promise.all([
        startBenchChild<AzuriteReady>(
          'Azurite',
          path.join(__dirname, 'support', 'azurite-child.js'),
          [],
          process.env,
        ),
        startBenchChild<IotHubsReady>(
          'IoT Hub emulator',
          path.join(__dirname, 'support', 'iot-hubs-child.js'),
          [String(LINKED_HUB_LIMIT)],
          process.env,
        ),
      ]);
      const webhook = await measureWebhookWithRefresh(azurite, options.quick);
      const timer = await measureTimer(hubs, azurite, options.quick);
      return [...decide, ...webhook, ...timer];
    } finally {
      await Promise.all([azurite && stopBenchChild(azurite.process), hubs && stopBenchChild(hubs.process)]);
    }
  },
};
