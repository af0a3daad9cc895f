// Child process of the audit benchmark: Azurite's Table service (dev/azurite.ts, in memory, an ephemeral
// 127.0.0.1 port), so that neither a scanner's CPU nor its memory figures include the storage emulator. Protocol of
// bench/support/child-process.ts: `ready` carries the connection string; 'usage' also returns the HTTP requests
// served since the previous 'usage' (a transaction is one request), counted on Node's http diagnostics channel.
import { subscribe } from 'node:diagnostics_channel';
import { startAzurite } from '../../dev/azurite';
import type { ChildUsage } from './child-process';
import { failedToStart, serveBenchChild } from './serve-child';

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
  const ready: AzuriteReady = { type: 'ready', connectionString: azurite.connectionString };
  serveBenchChild({
    ready,
    stop: () => azurite.stop(),
    usageExtra: (): Pick<AzuriteUsage, 'requests'> => {
      const served = requests;
      requests = 0;
      return { requests: served };
    },
  });
}

main().catch((error: unknown) => failedToStart('Azurite', error));
