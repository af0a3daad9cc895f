// The decision writer: group commit (a burst is one flush, in transactions of one partition and at most 100 rows;
// rows arriving during a write go in the next), UTC day partitions, idempotent retries, a bounded queue whose drops
// are counted, one notice per outage and one on recovery, and record() settling by its bound when storage hangs
// or is down, with nothing lost once it is back.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type Azurite } from '../../dev/azurite';
import type { DecisionLogRecord } from '../../src/allocation/webhook';
import { createAllocateHandler } from '../../src/decisions/allocate-handler';
import { readDecisions } from '../../src/decisions/queries';
import { DecisionStore } from '../../src/decisions/store';
import { decisionRowFrom, type DecisionRow } from '../../src/decisions/table';
import { openDecisionSink } from '../../src/decisions/table-sink';
import { DecisionWriter, type DecisionSink, type RecordOutcome } from '../../src/decisions/writer';
import { readSettings } from '../../src/settings';
import {
  eventually,
  groupRequest,
  recordNotices,
  startSilentServer,
  tableRows,
  TOASTERS_HUB,
  type SilentServer,
} from './support/decision-log';
import { settledWithin } from '../support/settled-within';
import { createOnce, type CreateOnce } from '../../src/storage/create-once';

const record = (registrationId: string): DecisionLogRecord => ({
  event: 'allocation',
  outcome: 'assigned',
  status: 200,
  registrationId,
  enrollment: { kind: 'group', id: 'fleet' },
  assignment: 'initial',
  rule: 'r',
  strategy: 'hashed',
  candidates: ['a.azure-devices.net', 'b.azure-devices.net'],
  hub: 'a.azure-devices.net',
  reason: 'hashed',
  latencyMs: 0.02,
});

const rowAt = (registrationId: string, at: Date): DecisionRow => decisionRowFrom(record(registrationId), at);

/** A sink that keeps what it was given; `fail` decides per call whether it throws instead. */
function memorySink(fail: (call: number) => boolean = () => false) {
  const calls: DecisionRow[][] = [];
  let call = 0;
  const sink: DecisionSink = {
    target: 'memory',
    async write(rows) {
      call++;
      if (fail(call))
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      calls.push([...rows]);
    },
  };
  return { sink, calls };
}

/** Fast retries, so that the tests wait milliseconds rather than seconds. */
const QUICK = { retryInitialMs: 10, retryMaxMs: 40, writeTimeoutMs: 1_000 };

/** A generous bound by default (a loaded machine still writes in time): tests about the bound set their own. */
function writerOn(
  sink: DecisionSink,
  options: Partial<ConstructorParameters<typeof DecisionWriter>[1]> = {},
) {
  const notices = recordNotices();
  const writer = new DecisionWriter(sink, {
    maxWaitMs: 5_000,
    maxQueue: 10_000,
    notices,
    ...QUICK,
    ...options,
  });
  return { writer, notices };
}

describe('group commit', () => {
  it('writes a burst in one flush: one partition per transaction, at most 100 rows each, every row once', async () => {
    const { sink, calls } = memorySink();
    const { writer } = writerOn(sink);
    const dayA = new Date('2026-03-01T10:00:00.000Z');
    const dayB = new Date('2026-03-02T10:00:00.000Z');
    const rows = [
      ...Array.from({ length: 250 }, (_, i) => rowAt(`a-${i}`, new Date(dayA.getTime() + i))),
      ...Array.from({ length: 30 }, (_, i) => rowAt(`b-${i}`, new Date(dayB.getTime() + i))),
    ];
    const outcomes = await Promise.all(rows.map((row) => writer.record(row)));
    expect(new Set(outcomes)).toEqual(new Set(['written']));
    expect(calls.map((call) => [call[0]!.partitionKey, call.length])).toEqual([
      ['2026-03-01', 100],
      ['2026-03-01', 100],
      ['2026-03-01', 50],
      ['2026-03-02', 30],
    ]);
    for (const call of calls) expect(new Set(call.map((row) => row.partitionKey)).size).toBe(1);
    expect(calls.flat().map((row) => row.rowKey)).toEqual(rows.map((row) => row.rowKey));
    expect(writer.stats()).toMatchObject({ written: 280, transactions: 4, queued: 0 });
  });

  it('queues rows that arrive while a write is in flight and writes them together next', async () => {
    const calls: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sink: DecisionSink = {
      target: 'gated',
      async write(rows) {
        calls.push(rows.length);
        if (calls.length === 1) await gate;
      },
    };
    const { writer } = writerOn(sink, { maxWaitMs: 5_000 });
    const first = writer.record(rowAt('first', new Date()));
    await new Promise((resolve) => setImmediate(resolve)); // the first write is in flight
    const later = Array.from({ length: 5 }, (_, i) => writer.record(rowAt(`later-${i}`, new Date())));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([1]);
    release();
    expect(await Promise.all([first, ...later])).toEqual(Array(6).fill('written'));
    expect(calls).toEqual([1, 5]);
  });
});

describe('on Azurite', () => {
  let azurite: Azurite;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'decisions-writer-'));
    azurite = await startAzurite({ dataDir });
  });

  afterAll(async () => {
    await azurite?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const settingsFor = (prefix: string, connectionString = azurite.connectionString) =>
    readSettings({ AUDIT_STORAGE_CONNECTION_STRING: connectionString, AUDIT_TABLE_PREFIX: prefix });
  const sinkFor = (prefix: string) => openDecisionSink(settingsFor(prefix), {});
  const storeFor = (prefix: string) =>
    new DecisionStore({
      connection: { kind: 'connectionString', connectionString: azurite.connectionString },
      tablePrefix: prefix,
    });

  it('splits partitions at UTC midnight and reads a range across them in time order', async () => {
    const { writer } = writerOn(sinkFor('Midnight'));
    const beforeMidnight = rowAt('late-device', new Date('2026-03-01T23:59:59.999Z'));
    const afterMidnight = rowAt('early-device', new Date('2026-03-02T00:00:00.000Z'));
    const outside = rowAt('too-early', new Date('2026-03-01T23:59:58.000Z'));
    expect(
      await Promise.all([afterMidnight, beforeMidnight, outside].map((row) => writer.record(row))),
    ).toEqual(Array(3).fill('written'));
    expect([beforeMidnight.partitionKey, afterMidnight.partitionKey]).toEqual(['2026-03-01', '2026-03-02']);
    const page = await readDecisions(storeFor('Midnight'), {
      since: new Date('2026-03-01T23:59:59.000Z'),
      until: new Date('2026-03-02T00:00:01.000Z'),
    });
    expect(page.items.map((item) => [item.at, item.registrationId])).toEqual([
      ['2026-03-01T23:59:59.999Z', 'late-device'],
      ['2026-03-02T00:00:00.000Z', 'early-device'],
    ]);
    await writer.close();
  });

  it('retries a transaction whose answer was lost without writing its rows twice', async () => {
    const table = sinkFor('Retried');
    let calls = 0;
    const loseFirstAnswer: DecisionSink = {
      target: table.target,
      async write(rows, signal) {
        await table.write(rows, signal);
        if (++calls === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
    };
    const { writer, notices } = writerOn(loseFirstAnswer);
    const rows = Array.from({ length: 40 }, (_, i) => rowAt(`device-${i}`, new Date(Date.now() + i)));
    const outcomes = await Promise.all(rows.map((row) => writer.record(row)));
    await writer.whenIdle();
    expect(calls).toBe(2);
    expect(outcomes.every((outcome) => outcome === 'written' || outcome === 'deferred')).toBe(true);
    const stored = await tableRows(azurite.connectionString, 'RetriedDecisions');
    expect(stored.map((row) => row.rowKey).sort()).toEqual(rows.map((row) => row.rowKey).sort());
    expect(notices.warnings()).toEqual([expect.stringContaining('ECONNRESET')]);
    expect(notices.infos()).toEqual([expect.stringMatching(/again after .*none lost/)]);
    await writer.close();
  });

  it('creates the table on first use, and again when it was deleted while running', async () => {
    const { writer } = writerOn(sinkFor('Recreated'));
    expect(await writer.record(rowAt('before', new Date()))).toBe('written');
    await TableClient.fromConnectionString(azurite.connectionString, 'RecreatedDecisions', {
      allowInsecureConnection: true,
    }).deleteTable();
    expect(await writer.record(rowAt('after', new Date()))).toBe('written');
    const stored = await tableRows(azurite.connectionString, 'RecreatedDecisions');
    expect(stored.map((row) => row.registrationId)).toEqual(['after']);
    await writer.close();
  });

  describe('when storage hangs (a server that accepts and never answers)', () => {
    let silent: SilentServer;
    beforeAll(async () => (silent = await startSilentServer()));
    afterAll(async () => silent?.stop());

    it('settles record() by its bound with the right answer, then defers at once while the outage lasts', async () => {
      const notices = recordNotices();
      const sink = openDecisionSink(settingsFor('Hanging', silent.connectionString), {});
      const writer = new DecisionWriter(sink, {
        maxWaitMs: 100,
        maxQueue: 1000,
        notices,
        writeTimeoutMs: 300,
        retryInitialMs: 60_000, // no retry during this test
      });
      const handler = createAllocateHandler({ env: {}, recorder: writer });
      const log = { log: () => undefined, warn: () => undefined };

      const started = performance.now();
      const answer = await handler.answerWithOutcome(groupRequest('kitchen-contoso-tstrsd-001'), log);
      const elapsed = performance.now() - started;
      expect(answer).toMatchObject({ status: 200, jsonBody: { iotHubHostName: TOASTERS_HUB } });
      expect(answer.recorded).toBe<RecordOutcome>('timed-out');
      expect(elapsed).toBeLessThan(5_000); // a guard only: the bound is 100 ms, the write timeout 300 ms
      expect(silent.connections).toBeGreaterThan(0);

      // The write in flight has outlived the bound: the next allocation does not wait behind it.
      const behind = await handler.answerWithOutcome(groupRequest('kitchen-contoso-tstrsd-003'), log);
      expect(behind).toMatchObject({ status: 200, recorded: 'deferred' });

      // Once the write has timed out the outage is known: allocations still do not wait.
      await eventually(
        async () => writer.stats().failing,
        (failing) => failing,
        5_000,
      );
      const next = await handler.answerWithOutcome(groupRequest('kitchen-contoso-tstrsd-002'), log);
      expect(next).toMatchObject({ status: 200, recorded: 'deferred' });
      expect(notices.warnings()).toEqual([expect.stringMatching(/cannot write .*no answer within 300 ms/)]);
      expect(writer.stats()).toMatchObject({ queued: 3, written: 0 });
      await writer.close(100);
      expect(notices.warnings()[1]).toMatch(/closed with 3 decision row\(s\) not written/);
    });

    it('abandons a write the writer gives up on: its connection is closed, not left hanging', async () => {
      const own = await startSilentServer(); // no other test's requests on it
      try {
        const sink = openDecisionSink(settingsFor('Abandoned', own.connectionString), {});
        // Past prepare(): this test is about the transaction's request.
        (sink as unknown as { tableReady: CreateOnce }).tableReady = createOnce(() => Promise.resolve());
        const settled = await settledWithin(
          sink.write([rowAt('abandoned', new Date())], AbortSignal.timeout(200)),
          5_000,
        );
        expect(settled).toEqual(expect.objectContaining({ name: 'AbortError' }));
        expect(own.connections).toBe(1);
        const open = await eventually(
          async () => own.openConnections,
          (count) => count === 0,
          5_000,
        );
        expect(open).toBe(0);
      } finally {
        await own.stop();
      }
    });
  });

  it('answers with the right hub while Azurite is stopped and writes every queued row once it is back', async () => {
    const notices = recordNotices();
    const env = {
      AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AUDIT_TABLE_PREFIX: 'Outage',
      DECISION_LOG_MAX_WAIT_MS: '200',
    };
    const handler = createAllocateHandler({ env, notices, writer: { retryInitialMs: 50, retryMaxMs: 200 } });
    const log = { log: () => undefined, warn: () => undefined };
    const allocate = (n: number) =>
      handler.answerWithOutcome(groupRequest(`lab-contoso-tstrsd-${String(n).padStart(3, '0')}`), log);

    const before = [await allocate(1), await allocate(2)];
    // Written in time, or (a loaded machine) later: the end of the test finds every row either way.
    for (const answer of before) expect(['written', 'timed-out']).toContain(answer.recorded);

    await azurite.interrupt();
    for (let n = 3; n <= 8; n++) {
      const started = performance.now();
      const answer = await allocate(n);
      const elapsed = performance.now() - started;
      expect(answer).toMatchObject({ status: 200, jsonBody: { iotHubHostName: TOASTERS_HUB } });
      expect(['deferred', 'timed-out']).toContain(answer.recorded);
      expect(elapsed).toBeLessThan(2_000); // a guard only: the bound is 200 ms, refused connections fail at once
    }
    expect(notices.warnings()).toEqual([expect.stringMatching(/cannot write to .*OutageDecisions \(/)]);

    await azurite.restart();
    const stored = await eventually(
      () => tableRows(azurite.connectionString, 'OutageDecisions'),
      (rows) => rows.length >= 8,
    );
    expect(stored.map((row) => row.registrationId).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `lab-contoso-tstrsd-${String(i + 1).padStart(3, '0')}`),
    );
    expect(stored.every((row) => row.hub === TOASTERS_HUB && row.rule === 'toasters')).toBe(true);
    await eventually(
      async () => notices.infos(),
      (infos) => infos.length > 0,
    );
    expect(notices.infos()).toEqual([expect.stringMatching(/writing to .*OutageDecisions again after/)]);
    expect(notices.warnings()).toHaveLength(1);
    await handler.close();
  });
});

describe('failures', () => {
  it('drops only a row that storage refuses on its own (400), writes the rest of its transaction, and goes on', async () => {
    const calls: string[][] = [];
    const sink: DecisionSink = {
      target: 'picky',
      async write(rows) {
        calls.push(rows.map((row) => row.registrationId ?? ''));
        if (rows.some((row) => row.registrationId === 'bad')) {
          throw Object.assign(new Error('The property value exceeds the maximum allowed size'), {
            statusCode: 400,
          });
        }
      },
    };
    const { writer, notices } = writerOn(sink);
    const ids = ['ok-1', 'bad', 'ok-2'];
    const outcomes = await Promise.all(ids.map((id) => writer.record(rowAt(id, new Date()))));
    expect(outcomes).toEqual(['written', 'dropped', 'written']);
    // The transaction, then its rows one by one.
    expect(calls).toEqual([ids, ['ok-1'], ['bad'], ['ok-2']]);
    expect(notices.warnings()).toEqual([
      expect.stringMatching(
        /refused the row of 'bad' at .*HTTP 400.*; it is dropped, the other rows are written/,
      ),
    ]);
    expect(writer.stats()).toMatchObject({ written: 2, dropped: 1, failing: false, queued: 0 });
    // Not an outage: the next row is waited for and written.
    await expect(writer.record(rowAt('ok-3', new Date()))).resolves.toBe('written');
    await writer.close();
  });

  it('close() waits for the write in flight, so a row on its way is not reported lost', async () => {
    const written: string[] = [];
    const sink: DecisionSink = {
      target: 'slow',
      async write(rows) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        written.push(...rows.map((row) => row.registrationId ?? ''));
      },
    };
    const { writer, notices } = writerOn(sink, { maxWaitMs: 0 });
    await expect(writer.record(rowAt('in-flight', new Date()))).resolves.toBe('deferred');
    await new Promise((resolve) => setImmediate(resolve)); // the write has started
    await writer.close(2_000);
    expect(written).toEqual(['in-flight']);
    expect(notices.warnings()).toEqual([]);
  });

  it('logs one warning per outage and one line when it ends; during the outage allocations do not wait', async () => {
    const { sink, calls } = memorySink((call) => call <= 3);
    const { writer, notices } = writerOn(sink);
    const outcomes: RecordOutcome[] = [];
    for (let i = 0; i < 20; i++) outcomes.push(await writer.record(rowAt(`d-${i}`, new Date())));
    expect(new Set(outcomes)).toEqual(new Set(['deferred']));
    await writer.whenIdle();
    expect(calls.flat()).toHaveLength(20);
    expect(notices.warnings()).toHaveLength(1);
    expect(notices.warnings()[0]).toMatch(
      /cannot write to memory \(.*ECONNREFUSED.*retried in the background/,
    );
    expect(notices.infos()).toEqual([expect.stringMatching(/writing to memory again after .*none lost/)]);
    expect(await writer.record(rowAt('after', new Date()))).toBe('written');
  });

  it('drops the oldest rows past the queue bound during an outage and logs how many', async () => {
    let healthy = false;
    const { sink, calls } = memorySink(() => !healthy);
    const { writer, notices } = writerOn(sink, { maxQueue: 100 });
    const rows = Array.from({ length: 150 }, (_, i) => rowAt(`d-${String(i).padStart(3, '0')}`, new Date()));
    for (const row of rows) expect(await writer.record(row)).toBe('deferred');
    expect(writer.stats()).toMatchObject({ queued: 100, dropped: 50, failing: true });
    expect(notices.warnings()).toEqual([
      expect.stringContaining('cannot write to memory'),
      expect.stringContaining('dropping the oldest'),
    ]);
    healthy = true;
    await writer.whenIdle();
    expect(calls.flat().map((row) => row.registrationId)).toEqual(
      rows.slice(50).map((row) => row.registrationId),
    );
    expect(notices.infos()).toEqual([expect.stringContaining('50 row(s) were dropped (queue full)')]);
  });

  it('drops the oldest waiting rows when more arrive than storage keeps up with, and says so', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const written: string[] = [];
    const sink: DecisionSink = {
      target: 'slow',
      async write(rows) {
        if (written.length === 0) await gate;
        written.push(...rows.map((row) => row.registrationId!));
      },
    };
    const { writer, notices } = writerOn(sink, { maxQueue: 100, maxWaitMs: 5_000 });
    const first = writer.record(rowAt('first', new Date()));
    await new Promise((resolve) => setImmediate(resolve)); // in flight, not yet slower than the bound
    const burst = Array.from({ length: 150 }, (_, i) => writer.record(rowAt(`b-${i}`, new Date())));
    release();
    const outcomes = await Promise.all([first, ...burst]);
    expect(outcomes.slice(1, 51)).toEqual(Array(50).fill('dropped'));
    expect(new Set(outcomes.slice(51))).toEqual(new Set(['written']));
    expect(written).toHaveLength(101);
    await writer.whenIdle();
    expect(notices.warnings()).toEqual([
      expect.stringContaining('dropping the oldest'),
      'Decision log: dropped 50 decision row(s) while the queue was full.',
    ]);
  });

  it('never rejects, and skips rows once closed', async () => {
    const { sink } = memorySink(() => true);
    const { writer } = writerOn(sink, { maxWaitMs: 20 });
    await expect(writer.record(rowAt('x', new Date()))).resolves.toMatch(/deferred|timed-out/);
    await writer.close(50);
    await expect(writer.record(rowAt('y', new Date()))).resolves.toBe('skipped');
  });
});
