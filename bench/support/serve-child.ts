// The child side of bench/support/child-process.ts: answers 'usage' with CPU time and event-loop delay (plus what
// the service adds), stops the service on 'stop', on parent disconnect or SIGTERM, and sends the ready message.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ChildUsage } from './child-process';

export interface ServedChild<Ready, Extra> {
  ready: Ready;
  stop(): Promise<void>;
  /** The service's own counters since the previous 'usage' (reset them here). */
  usageExtra(): Extra;
}

export function serveBenchChild<Ready extends { type: 'ready' }, Extra extends object>(
  service: ServedChild<Ready, Extra>,
): void {
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= service.stop().finally(() => {
      loopDelay.disable();
      if (process.connected) process.disconnect();
    });
    return stopping;
  };
  process.on('message', (message) => {
    if (message === 'stop') void stop();
    if (message === 'usage') {
      const cpu = process.cpuUsage();
      const usage: ChildUsage & Extra = {
        type: 'usage',
        cpuMicros: cpu.user + cpu.system,
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
        ...service.usageExtra(),
      };
      loopDelay.reset();
      process.send?.(usage);
    }
  });
  process.on('disconnect', () => void stop());
  process.once('SIGTERM', () => void stop().finally(() => process.exit(0)));
  process.send?.(service.ready);
}

/** Reports a child that could not start and lets the parent see it exit. */
export function failedToStart(what: string, error: unknown): void {
  process.stderr.write(`benchmark ${what} failed to start: ${(error as Error).message}\n`);
  process.exitCode = 1;
  if (process.connected) process.disconnect();
}
