// HTTP latency of the allocate function through the local Functions host, at a fixed request rate.
// The server runs in a child process; this process is an open-loop load generator (undici keep-alive pool).
// Latency is measured from each request's *scheduled* send time, so a stalled server cannot hide its queue
// (no coordinated omission): a request that should have gone out during a stall counts its wait.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Pool } from 'undici';
import type { ServerMode, ServerReady, ServerUsage } from './allocation-http-server';
import { BENCH_POLICY, benchBodies } from './allocation-workload';
import { figure, type BenchOptions, type Figure } from './figures';
import { percentile, sortedCopy } from './stats';

const RATE_PER_SECOND = 1000;
const P99_GOAL_MS = 5;
const CONNECTIONS = 64;
const SERVER_START_TIMEOUT_MS = 20_000;

interface LoadResult {
  scheduled: number;
  /** Milliseconds from scheduled send to the end of the response body; NaN for failed requests. */
  latencyMs: Float64Array;
  /** Milliseconds from scheduled to actual send (the generator's own lateness). */
  sendLagMs: Float64Array;
  /** Milliseconds from actual send to the end of the response body; NaN for failed requests. */
  serviceMs: Float64Array;
  statuses: Map<number, number>;
  transportErrors: Map<string, number>;
  elapsedMs: number;
}

/** Sends `rate` requests per second for `durationMs`, on a fixed schedule, whatever the responses do. */
async function openLoop(
  pool: Pool,
  requestPath: string,
  bodies: readonly string[],
  rate: number,
  durationMs: number,
): Promise<LoadResult> {
  const total = Math.round((rate * durationMs) / 1000);
  const intervalMs = 1000 / rate;
  const result: LoadResult = {
    scheduled: total,
    latencyMs: new Float64Array(total).fill(Number.NaN),
    sendLagMs: new Float64Array(total),
    serviceMs: new Float64Array(total).fill(Number.NaN),
    statuses: new Map(),
    transportErrors: new Map(),
    elapsedMs: 0,
  };
  const count = (map: Map<number | string, number>, key: number | string) =>
    map.set(key, (map.get(key) ?? 0) + 1);
  let outstanding = 0;
  let next = 0;
  let resolveDrained = (): void => undefined;
  const drained = new Promise<void>((resolve) => (resolveDrained = resolve));
  const start = performance.now() + 5;
  const dueAt = (i: number) => start + i * intervalMs;

  const send = (i: number): void => {
    const scheduled = dueAt(i);
    const sent = performance.now();
    result.sendLagMs[i] = sent - scheduled;
    outstanding++;
    pool
      .request({
        path: requestPath,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[i % bodies.length]!,
      })
      .then(async (response) => {
        await response.body.text();
        const done = performance.now();
        result.latencyMs[i] = done - scheduled;
        result.serviceMs[i] = done - sent;
        count(result.statuses as Map<number | string, number>, response.statusCode);
      })
      .catch((error: unknown) => {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        count(result.transportErrors as Map<number | string, number>, code);
      })
      .finally(() => {
        outstanding--;
        if (outstanding === 0 && next >= total) resolveDrained();
      });
  };

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && dueAt(next) <= now) send(next++);
      if (next >= total) resolve();
      else setTimeout(tick, Math.max(0, dueAt(next) - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  if (outstanding > 0) await drained;
  result.elapsedMs = performance.now() - start;
  return result;
}

async function startServer(
  mode: ServerMode,
  functionKey: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(path.join(__dirname, 'allocation-http-server.js'), [mode], {
    env: { ...process.env, ALLOCATION_POLICY: JSON.stringify(BENCH_POLICY), BENCH_FUNCTION_KEY: functionKey },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the benchmark server did not start within ${SERVER_START_TIMEOUT_MS} ms`)),
        SERVER_START_TIMEOUT_MS,
      );
      child.on('message', (message: ServerReady) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message.url);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the benchmark server exited with code ${code} before it was ready`));
      });
    });
    return { child, url };
  } catch (error) {
    await stopServer(child);
    throw error;
  }
}

/** The server's CPU time so far, and its event-loop delay since the previous call. */
function serverUsage(child: ChildProcess): Promise<ServerUsage> {
  return new Promise((resolve) => {
    const onMessage = (message: ServerUsage): void => {
      if (message.type !== 'usage') return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send('usage');
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send('stop');
  const timer = setTimeout(() => child.kill(), 5000);
  await exited;
  clearTimeout(timer);
}

interface ScenarioResult {
  run: LoadResult;
  warmupMs: number;
  measuredMs: number;
  cpu: { serverMicros: number; clientMicros: number };
  server: ServerUsage;
}

/** Warms up, then measures one open-loop run against a fresh server in the given mode. */
async function runScenario(mode: ServerMode, options: BenchOptions): Promise<ScenarioResult> {
  const warmupMs = options.quick ? 1000 : 3000;
  const measuredMs = options.quick ? 3000 : 10_000;
  const functionKey = randomBytes(16).toString('hex');
  const { child, url } = await startServer(mode, functionKey);
  try {
    const target = new URL(url);
    target.searchParams.set('code', functionKey); // as DPS calls it: the key in the webhook URL
    const pool = new Pool(target.origin, {
      connections: CONNECTIONS,
      keepAliveTimeout: 60_000,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    try {
      const bodies = benchBodies(4096);
      const requestPath = `${target.pathname}${target.search}`;
      await openLoop(pool, requestPath, bodies, RATE_PER_SECOND, warmupMs);
      const before = await serverUsage(child);
      const clientCpuBefore = process.cpuUsage();
      const run = await openLoop(pool, requestPath, bodies.slice(1000), RATE_PER_SECOND, measuredMs);
      const clientCpu = process.cpuUsage(clientCpuBefore);
      const server = await serverUsage(child);
      const cpu = {
        serverMicros: server.cpuMicros - before.cpuMicros,
        clientMicros: clientCpu.user + clientCpu.system,
      };
      return { run, warmupMs, measuredMs, cpu, server };
    } finally {
      await pool.close();
    }
  } finally {
    await stopServer(child);
  }
}

export async function measureHttp(options: BenchOptions): Promise<Figure[]> {
  const host = await runScenario('functions-host', options);
  // The same load on a bare node:http server calling the same webhook code: what this machine allows, so the
  // local host's own share of the latency can be told apart from the machine's.
  const plain = await runScenario('plain-http', options);
  return [...httpFigures(host), ...baselineFigures(plain)];
}

function httpFigures({ run, warmupMs, measuredMs, cpu, server }: ScenarioResult): Figure[] {
  const completed = run.latencyMs.filter((ms) => !Number.isNaN(ms));
  const latency = sortedCopy(completed);
  const lag = sortedCopy(run.sendLagMs);
  const service = sortedCopy(run.serviceMs.filter((ms) => !Number.isNaN(ms)));
  const ok = run.statuses.get(200) ?? 0;
  const transportErrors = [...run.transportErrors.values()].reduce((a, b) => a + b, 0);
  const otherStatuses = [...run.statuses].filter(([status]) => status !== 200);
  const errors = transportErrors + otherStatuses.reduce((sum, [, n]) => sum + n, 0);
  const errorDetail = [
    ...otherStatuses.map(([status, n]) => `${n} x HTTP ${status}`),
    ...[...run.transportErrors].map(([code, n]) => `${n} x ${code}`),
  ].join(', ');
  const setup =
    `${run.scheduled.toLocaleString('en-US')} requests at ${RATE_PER_SECOND}/s over ${measuredMs / 1000} s ` +
    `after a ${warmupMs / 1000} s warm-up; latency from the scheduled send time; server in a child process, ` +
    `undici pool of up to ${CONNECTIONS} keep-alive connections`;
  const at = `at ${RATE_PER_SECOND.toLocaleString('en-US')} req/s`;
  return [
    figure(`HTTP latency p50 ${at}`, percentile(latency, 50), 'ms', { note: setup }),
    figure(`HTTP latency p90 ${at}`, percentile(latency, 90), 'ms'),
    figure(`HTTP latency p99 ${at}`, percentile(latency, 99), 'ms', { goal: { atMost: P99_GOAL_MS } }),
    figure(`HTTP latency max ${at}`, latency[latency.length - 1] ?? Number.NaN, 'ms'),
    figure('HTTP throughput achieved', (1000 * completed.length) / run.elapsedMs, 'req/s'),
    figure('HTTP errors (non-200 answers, transport errors)', errors, 'requests', {
      goal: { atMost: 0 },
      note: errors > 0 ? errorDetail : `${ok.toLocaleString('en-US')} x HTTP 200`,
    }),
    figure('load generator send lag p99 (included in the latencies)', percentile(lag, 99), 'ms'),
    figure('HTTP latency p99 from the actual send (lag excluded)', percentile(service, 99), 'ms'),
    figure('server event-loop delay p99 during the run', server.loopDelayP99Ms, 'ms', {
      note: `max ${server.loopDelayMaxMs.toFixed(1)} ms (GC pauses, CPU contention)`,
    }),
    figure('server CPU per request (host + function)', cpu.serverMicros / run.scheduled, 'us', {
      note: `load generator: ${(cpu.clientMicros / run.scheduled).toFixed(0)} us CPU per request`,
    }),
  ];
}

function baselineFigures({ run, cpu }: ScenarioResult): Figure[] {
  const latency = sortedCopy(run.latencyMs.filter((ms) => !Number.isNaN(ms)));
  const failed = run.scheduled - latency.length;
  return [
    figure('baseline, bare node:http + webhook: latency p50', percentile(latency, 50), 'ms', {
      note: 'same schedule and bodies, no Functions host: the floor on this machine',
    }),
    figure('baseline, bare node:http + webhook: latency p99', percentile(latency, 99), 'ms', {
      note: failed > 0 ? `${failed} request(s) failed` : undefined,
    }),
    figure(
      'baseline, bare node:http + webhook: server CPU per request',
      cpu.serverMicros / run.scheduled,
      'us',
    ),
  ];
}
