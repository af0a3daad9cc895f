// Child process of the audit benchmark: Azurite's Table service (dev/azurite.ts, in memory, an ephemeral
// 127.0.0.1 port), so that neither a scanner's CPU nor its memory figures include the storage emulator. Protocol of
// bench/support/child-process.ts: `ready` carries the connection string; 'usage' also returns the HTTP requests
// served since the previous 'usage' (a transaction is one request), counted on Node's http diagnostics channel.
import { subscribe } from 'node:diagnostics_channel';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startAzurite } from '../../dev/azurite';
import type { ChildUsage } from './child-process';

export interface AzuriteReady {
  type: 'ready';
  connectionString: string;
}

export interface AzuriteUsage extends ChildUsage {
  /** HTTP requests Azurite received since the previous 'usage'. */
  requests: number;
}

async function main(): Promise<void> {
  let requests = 0;
  subscribe('http.server.request.start', () => {
    requests++;
  });
  const azurite = await startAzurite();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= azurite.stop().finally(() => {
      loopDelay.disable();
      if (process.connected) process.disconnect();
    });
    return stopping;
  };
  process.on('message', (message) => {
    if (message === 'stop') void stop();
    if (message === 'usage') {
      const cpu = process.cpuUsage();
      const usage: AzuriteUsage = {
        type: 'usage',
        cpuMicros: cpu.user + cpu.system,
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
        requests,
      };
      requests = 0;
      loopDelay.reset();
      process.send?.(usage);
    }
  });
  process.on('disconnect', () => void stop());
  process.once('SIGTERM', () => void stop().finally(() => process.exit(0)));
  const ready: AzuriteReady = { type: 'ready', connectionString: azurite.connectionString };
  process.send?.(ready);
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark Azurite failed to start: ${(error as Error).message}\n`);
  process.exitCode = 1;
  if (process.connected) process.disconnect();
});
