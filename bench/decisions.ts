// The decision log's cost to allocate (issue 6): the latency of the allocate handler (webhook + decision row,
// in process, as the function runs it) at a fixed request rate with the log off, on a healthy Azurite, with Azurite
// stopped and with storage that accepts connections and never answers; then the rows per second the writer
// sustains into Azurite. Azurite runs in a child process, so its CPU is not the load generator's.
import net from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../dev/azurite';
import { startEventGridEmulator } from '../dev/event-grid-emulator';
import { dpsRequestBody, HEATPUMPS_HUB, TOASTERS_HUB } from '../dev/fixtures/dps-requests';
import { createAllocateHandler, type AllocateHandler } from '../src/decisions/allocate-handler';
import { decisionRowFrom } from '../src/decisions/table';
import { openDecisionSink } from '../src/decisions/table-sink';
import {
  DecisionWriter,
  type DecisionNotices,
  type DecisionSink,
  type RecordOutcome,
} from '../src/decisions/writer';
import { readSettings } from '../src/settings';
import { figure, type BenchModule, type BenchOptions, type Figure } from './figures';
import { percentile, sortedCopy } from './stats';
import type { AzuriteReady } from './support/azurite-child';
import { startBenchChild, stopBenchChild, type BenchChild } from './support/child-process';

/** A registration rate well above what one DPS sends (1,000 registrations per minute). */
const RATE_PER_SECOND = 500;
const MAX_WAIT_MS = 100;

/** The notices of a scenario, kept to count them (the outage warnings must be few, not one per allocation). */
function countingNotices(): DecisionNotices & { count: () => number } {
  let count = 0;
  return { info: () => count++, warn: () => count++, count: () => count };
}

function requestBody(index: number): string {
  const kind = index % 3 === 0 ? 'hpsd' : index % 3 === 1 ? 'tstrsd' : 'other';
  return JSON.stringify(
    dpsRequestBody({
      registrationId: `bench-contoso-${kind}-${index}`,
      group: 'bench-fleet',
      attestation: 'symmetricKey',
      linkedHubs: [TOASTERS_HUB, HEATPUMPS_HUB],
    }),
  );
}

interface RunResult {
  latencyMs: Float64Array;
  outcomes: Map<RecordOutcome, number>;
  wrongAnswers: number;
  /** The load generator's own event-loop delay during the run: a stall there shows in every latency. */
  loopDelayMaxMs: number;
}

const silentLog = { log: () => undefined, warn: () => undefined };

/** `count` allocations started at a fixed rate (open loop), each timed from its start to its answer. */
async function runAtRate(handler: AllocateHandler, count: number, firstIndex: number): Promise<RunResult> {
  const latencyMs = new Float64Array(count);
  const outcomes = new Map<RecordOutcome, number>();
  let wrongAnswers = 0;
  const interval = 1000 / RATE_PER_SECOND;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait >= 1) await delay(wait);
    pending.push(
      (async () => {
        const begin = performance.now();
        const answer = await handler.answerWithOutcome(requestBody(firstIndex + i), silentLog);
        latencyMs[i] = performance.now() - begin;
        outcomes.set(answer.recorded, (outcomes.get(answer.recorded) ?? 0) + 1);
        const expectedHub =
          (firstIndex + i) % 3 === 0 ? /heatpumps/ : (firstIndex + i) % 3 === 1 ? /toasters/ : /./;
        const hub = (answer.jsonBody as { iotHubHostName?: string }).iotHubHostName ?? '';
        if (answer.status !== 200 || !expectedHub.test(hub)) wrongAnswers++;
      })(),
    );
  }
  await Promise.all(pending);
  loopDelay.disable();
  return { latencyMs, outcomes, wrongAnswers, loopDelayMaxMs: loopDelay.max / 1e6 };
}

function latencyFigures(label: string, result: RunResult, note: string): Figure[] {
  const sorted = sortedCopy(result.latencyMs);
  const outcomes = [...result.outcomes].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
  return [
    figure(`allocate latency, ${label}, p50`, percentile(sorted, 50), 'ms'),
    figure(`allocate latency, ${label}, p99`, percentile(sorted, 99), 'ms', {
      goal: { atMost: MAX_WAIT_MS + 10 },
    }),
    figure(`allocate latency, ${label}, max`, sorted[sorted.length - 1] ?? Number.NaN, 'ms', {
      note:
        `${sorted.length} allocations at ${RATE_PER_SECOND}/s; rows: ${outcomes}; ` +
        `${result.wrongAnswers} wrong answers; event-loop delay max ${result.loopDelayMaxMs.toFixed(0)} ms; ${note}`,
    }),
  ];
}

function storageEnv(connectionString: string): NodeJS.ProcessEnv {
  return { AUDIT_STORAGE_CONNECTION_STRING: connectionString, AUDIT_TABLE_PREFIX: 'Bench' };
}

/** A TCP server that accepts and never answers: storage that hangs. */
async function startSilentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function throughputRow(i: number, at: number) {
  return decisionRowFrom(
    {
      event: 'allocation',
      outcome: 'assigned',
      status: 200,
      registrationId: `throughput-${i}`,
      enrollment: { kind: 'group', id: 'bench-fleet' },
      assignment: 'initial',
      rule: 'r',
      strategy: 'hashed',
      candidates: ['a', 'b'],
      hub: 'a',
      reason: 'hashed: weighted rendezvous hash of the registration id',
      latencyMs: 0.01,
    },
    new Date(at + i),
  );
}

/** Rows arriving in bursts of 500 per event-loop turn, until all are written: rows/s and rows per transaction. */
async function writeRows(sink: DecisionSink, rows: number): Promise<{ perSecond: number; note: string }> {
  const writer = new DecisionWriter(sink, {
    maxWaitMs: MAX_WAIT_MS,
    maxQueue: rows,
    notices: countingNotices(),
  });
  const at = Date.now();
  await writer.record(throughputRow(-1, at)); // the table exists, the connection is open
  const started = performance.now();
  for (let i = 0; i < rows; i += 500) {
    for (let j = i; j < Math.min(rows, i + 500); j++) void writer.record(throughputRow(j, at));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await writer.whenIdle();
  const seconds = (performance.now() - started) / 1000;
  const stats = writer.stats();
  await writer.close();
  return {
    perSecond: Math.round(rows / seconds),
    note:
      `${rows.toLocaleString('en-US')} rows in ${seconds.toFixed(2)} s, ${stats.transactions} transactions ` +
      `(${(stats.written / Math.max(1, stats.transactions)).toFixed(0)} rows each), ${stats.dropped} dropped`,
  };
}

async function writerThroughput(connectionString: string, options: BenchOptions): Promise<Figure[]> {
  const settings = readSettings(storageEnv(connectionString));
  const azurite = await writeRows(openDecisionSink(settings, {}), options.quick ? 2_000 : 10_000);
  const memory = await writeRows(
    { target: 'memory', write: () => new Promise((resolve) => setImmediate(resolve)) },
    options.quick ? 20_000 : 200_000,
  );
  return [
    figure('decision rows written per second, one writer into Azurite', azurite.perSecond, '/s', {
      note:
        `${azurite.note}; Azurite (one process, in memory) is the limit and slows as its table grows; Azure ` +
        'Table storage allows about 2,000 entities/s per partition (one partition per day here)',
    }),
    figure(
      'decision rows per second through the writer alone (a sink that writes nothing)',
      memory.perSecond,
      '/s',
      {
        note: `${memory.note}: the cost of the group commit itself`,
      },
    ),
  ];
}

/**
 * The lifecycle events' cost to allocate: the decision log off, events on, with the local topic up and then down
 * (answering 503): publishing queues and returns, so the latency stays the webhook's own.
 */
async function eventsFigures(count: number): Promise<Figure[]> {
  const topic = await startEventGridEmulator();
  const notices = countingNotices();
  const handler = createAllocateHandler({
    env: {
      DECISION_LOG_ENABLED: 'false',
      EVENTS_TOPIC_ENDPOINT: topic.endpoint,
      EVENTS_TOPIC_KEY: topic.key,
      EVENTS_MAX_QUEUE: String(count * 2),
    },
    notices,
  });
  try {
    await runAtRate(handler, 200, 0); // the SDK is loaded, the connection open
    const up = await runAtRate(handler, count, 0);
    topic.setAvailable(false);
    const down = await runAtRate(handler, count, count);
    const before = topic.events().length;
    topic.setAvailable(true);
    const started = performance.now();
    // Every allocation is one event: those published while the topic was down arrive once it is back.
    const published = 200 + 2 * count;
    await topic.waitForEvents(published, 120_000);
    const caughtUpSeconds = (performance.now() - started) / 1000;
    const distinctIds = new Set(topic.events().map((event) => event.id)).size;
    return [
      ...latencyFigures('events on, topic up', up, 'the local Event Grid topic in process'),
      ...latencyFigures(
        'events on, topic down',
        down,
        `the topic answers 503; ${notices.count()} notice line(s)`,
      ),
      figure('distinct events the topic recorded, of the allocations made', distinctIds, '', {
        goal: { atLeast: published },
        note:
          `${published} allocations (one event each), ${count} of them while the topic was down; ` +
          `${topic.events().length - before} arrived after it came back, in ${caughtUpSeconds.toFixed(1)} s`,
      }),
    ];
  } finally {
    await handler.close();
    await topic.stop();
  }
}

export const decisionsBench: BenchModule = {
  name: 'decisions',
  description:
    'decision log: allocate latency with the log off, Azurite up, Azurite stopped, storage hanging; rows/s',
  async run(options: BenchOptions) {
    const count = options.quick ? 500 : 3000;
    const figures: Figure[] = [];

    const off = createAllocateHandler({ env: { DECISION_LOG_ENABLED: 'false' } });
    await runAtRate(off, 200, 0); // warm up the webhook
    figures.push(...latencyFigures('decision log off', await runAtRate(off, count, 0), 'the webhook alone'));
    figures.push(...(await eventsFigures(count)));

    let azurite: BenchChild<AzuriteReady> | undefined = await startBenchChild<AzuriteReady>(
      'Azurite',
      path.join(__dirname, 'support', 'azurite-child.js'),
      [],
      process.env,
    );
    const silent = await startSilentServer();
    const notices = countingNotices();
    const healthy = createAllocateHandler({ env: storageEnv(azurite.ready.connectionString), notices });
    try {
      await runAtRate(healthy, 200, 0); // the table exists, connections are open
      figures.push(
        ...latencyFigures(
          'Azurite up',
          await runAtRate(healthy, count, 0),
          `DECISION_LOG_MAX_WAIT_MS ${MAX_WAIT_MS}; Azurite in a child process`,
        ),
      );
      const stopping = azurite.process;
      azurite = undefined;
      await stopBenchChild(stopping);
      const before = notices.count();
      figures.push(
        ...latencyFigures(
          'Azurite stopped',
          await runAtRate(healthy, count, count),
          `connections refused; ${notices.count() - before} notice line(s) for the whole run`,
        ),
      );
      await healthy.close();

      const hangingNotices = countingNotices();
      const hanging = createAllocateHandler({
        env: storageEnv(
          `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
            `TableEndpoint=http://127.0.0.1:${silent.port}/${AZURITE_ACCOUNT_NAME};`,
        ),
        notices: hangingNotices,
      });
      figures.push(
        ...latencyFigures(
          'storage hanging',
          await runAtRate(hanging, count, 0),
          `a server that accepts and never answers (write timeout 5 s); ${hangingNotices.count()} notice line(s)`,
        ),
      );
      await hanging.close();

      azurite = await startBenchChild<AzuriteReady>(
        'Azurite',
        path.join(__dirname, 'support', 'azurite-child.js'),
        [],
        process.env,
      );
      figures.push(...(await writerThroughput(azurite.ready.connectionString, options)));
    } finally {
      await healthy.close();
      await silent.stop();
      if (azurite) await stopBenchChild(azurite.process);
    }
    return figures;
  },
};
