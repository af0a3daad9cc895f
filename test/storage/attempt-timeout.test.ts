// Storage that accepts a connection and never answers: every attempt of a request is given up after the attempt
// timeout and retried, then the call fails with a message that says so, and no connection is left open. The
// caller's own abort is not retried.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AuditStore } from '../../src/audit/store';
import { INTERACTIVE_STORAGE_RETRY } from '../../src/storage/retry';
import { submitBatch } from '../../src/storage/table-batch';
import { settledWithin } from '../support/settled-within';
import { transpileInto } from '../support/transpile';
import { startSilentServer, storageConnectionString, type SilentServer } from '../support/silent-server';
import { closedPort } from '../support/closed-port';

const repoRoot = path.resolve(__dirname, '../..');
let silent: SilentServer;

beforeEach(async () => (silent = await startSilentServer()));
afterEach(async () => silent.stop());

async function openConnectionsAfterwards(): Promise<number> {
  for (let waited = 0; waited < 2_000 && silent.openConnections > 0; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return silent.openConnections;
}

const row = { partitionKey: 'fleet', rowKey: 'device-1', status: 'failed' };

it('gives each attempt its time, retries, then fails saying storage did not answer', async () => {
  const store = new AuditStore({
    connection: { kind: 'connectionString', connectionString: silent.connectionString },
    retry: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 10, attemptTimeoutMs: 200 },
  });
  const started = performance.now();
  const outcome = await settledWithin(store.upsert('problems', [row]), 5_000);
  expect(outcome).toEqual(
    expect.objectContaining({
      name: 'StorageError',
      message: expect.stringMatching(/submitTransaction on AuditProblems failed: no answer .* within 200 ms/),
    }),
  );
  expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 200 - 50);
  expect(silent.connections).toBe(3); // the first attempt and two retries
  expect(await openConnectionsAfterwards()).toBe(0);
});

it("keeps the caller's abort an abort, not retried", async () => {
  const store = new AuditStore({
    connection: { kind: 'connectionString', connectionString: silent.connectionString },
    retry: { ...INTERACTIVE_STORAGE_RETRY, retryDelayInMs: 10 },
  });
  const outcome = await settledWithin(
    submitBatch(store.client('problems'), [['upsert', row]], { abortSignal: AbortSignal.timeout(100) }),
    3_000,
  );
  expect(outcome).toEqual(expect.objectContaining({ name: 'AbortError' }));
  expect(silent.connections).toBe(1);
  expect(await openConnectionsAfterwards()).toBe(0);
});

describe('in a plain node process', () => {
  let scratch: string;
  beforeAll(() => {
    fs.mkdirSync(path.join(repoRoot, 'test-artifacts'), { recursive: true });
    scratch = fs.mkdtempSync(path.join(repoRoot, 'test-artifacts', 'attempt-timeout-'));
    transpileInto(repoRoot, ['src'], scratch);
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('exits as soon as a refused connection has failed the call, not after the attempt timeout', async () => {
    const port = await closedPort();
    const script = `
      const { AuditStore } = require('./dist/src/audit/store.js');
      const store = new AuditStore({
        connection: { kind: 'connectionString', connectionString: ${JSON.stringify(storageConnectionString(port))} },
        retry: { maxRetries: 0, attemptTimeoutMs: 60000 },
      });
      store.upsert('problems', [{ partitionKey: 'p', rowKey: 'r' }]).catch((error) => console.log(error.message));`;
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', script], { cwd: scratch });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    const exited = await settledWithin(new Promise((resolve) => child.once('exit', resolve)), 10_000);
    if (child.exitCode === null) child.kill('SIGKILL');
    expect({ exited, output }).toEqual({ exited: 'resolved', output: expect.stringMatching(/ECONNREFUSED/) });
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
