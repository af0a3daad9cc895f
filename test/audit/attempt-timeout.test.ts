// Storage that accepts a connection and never answers: every attempt of a request is given up after the attempt
// timeout and retried, then the call fails with a message that says so, and no connection is left open. The
// caller's own abort is not retried.
import { INTERACTIVE_STORAGE_RETRY, AuditStore } from '../../src/audit/store';
import { submitBatch } from '../../src/audit/table-batch';
import { startSilentServer, type SilentServer } from '../support/silent-server';

let silent: SilentServer;

beforeEach(async () => (silent = await startSilentServer()));
afterEach(async () => silent.stop());

/** The promise's outcome, or 'still waiting' after `ms`: a call that hangs fails the test instead of the run. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([
    promise.then(
      () => 'resolved',
      (error: unknown) => error,
    ),
    new Promise((resolve) => setTimeout(() => resolve(`still waiting after ${ms} ms`), ms)),
  ]);
}

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
      name: 'AuditStorageError',
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
