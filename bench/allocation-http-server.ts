// Child process of the HTTP benchmark: the local Functions host serving the compiled allocate function (or, as a
// baseline, a bare node:http server), so that the load generator does not share an event loop with the server.
// IPC protocol: sends ServerReady once listening; answers 'usage' with ServerUsage (CPU time so far, event-loop
// delay since the previous 'usage'); stops on 'stop' or when the parent disconnects.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startFunctionsHost } from '../dev/functions-host';
import { createAllocationWebhook } from '../src/allocation/setup';

/** functions-host: the local Functions host and the compiled function; plain-http: node:http calling the webhook. */
export type ServerMode = 'functions-host' | 'plain-http';

export interface ServerReady {
  type: 'ready';
  url: string;
}

export interface ServerUsage {
  type: 'usage';
  /** process.cpuUsage() of the server, microseconds since it started. */
  cpuMicros: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

interface Server {
  url: string;
  stop(): Promise<void>;
}

async function startLocalHost(): Promise<Server> {
  // These figures are the webhook's; the decision log's cost is measured by bench/decisions.ts.
  process.env.DECISION_LOG_ENABLED = 'false';
  const functionFile = path.resolve(__dirname, '..', 'src', 'functions', 'allocate.js');
  const host = await startFunctionsHost({
    functionFiles: [functionFile],
    port: 0,
    functionKey: process.env.BENCH_FUNCTION_KEY ?? '',
    enableTimers: false,
    // Every invocation logs a line: keep the terminal readable, but show errors.
    log: (line) => {
      if (/\] (error|critical):/.test(line)) process.stderr.write(`${line}\n`);
    },
  });
  return { url: host.functionUrl('allocate'), stop: () => host.stop() };
}

async function startPlainServer(): Promise<Server> {
  const answer = createAllocationWebhook();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { status, jsonBody, headers } = answer(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status, headers).end(JSON.stringify(jsonBody));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/allocate`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main(mode: string | undefined): Promise<void> {
  if (mode !== 'functions-host' && mode !== 'plain-http') throw new Error(`unknown server mode '${mode}'`);
  const host = mode === 'functions-host' ? await startLocalHost() : await startPlainServer();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const stop = (): void => {
    loopDelay.disable();
    void host.stop().finally(() => process.disconnect?.());
  };
  process.on('message', (message) => {
    if (message === 'stop') stop();
    if (message === 'usage') {
      const cpu = process.cpuUsage();
      const usage: ServerUsage = {
        type: 'usage',
        cpuMicros: cpu.user + cpu.system,
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
      };
      loopDelay.reset();
      process.send?.(usage);
    }
  });
  process.on('disconnect', () => void host.stop());
  const ready: ServerReady = { type: 'ready', url: host.url };
  process.send?.(ready);
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`benchmark server failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
  process.disconnect?.();
});
