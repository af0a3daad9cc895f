import type { DpsClient } from '../../src/dps/client';
import { DpsThrottledError, DpsTransientError, type DpsError } from '../../src/dps/errors';
import { sasClientFor } from './support/clients';
import type { FakeClock } from './support/fake-clock';
import {
  sendJson,
  startTestHttpsServer,
  type Handler,
  type TestHttpsServer,
} from './support/test-https-server';

let server: TestHttpsServer;
const clients: DpsClient[] = [];

beforeAll(async () => {
  server = await startTestHttpsServer();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.requests.length = 0;
});

afterAll(async () => {
  await server.close();
});

function newClient(options: Parameters<typeof sasClientFor>[1] = {}): {
  client: DpsClient;
  clock: FakeClock;
} {
  const created = sasClientFor(server, options);
  clients.push(created.client);
  return created;
}

const state = { registrationId: 'dev-1', status: 'assigned', assignedHub: 'hub.azure-devices.net' };

/** Runs the given handlers for the first requests, then answers with the registration state. */
function failFirst(...failures: Handler[]): void {
  server.handler = (req, res) => {
    const failure = failures[server.requests.length - 1];
    if (failure) failure(req, res);
    else sendJson(res, 200, state);
  };
}

describe('retries', () => {
  it('waits for Retry-After in seconds after a 429 and counts the throttling', async () => {
    failFirst((_req, res) => sendJson(res, 429, { errorCode: 429001 }, { 'retry-after': '2' }));
    const { client, clock } = newClient();

    await expect(client.getRegistrationState('dev-1')).resolves.toMatchObject({ registrationId: 'dev-1' });

    expect(clock.sleeps).toEqual([2000]);
    expect(client.stats()).toMatchObject({ operations: 2, throttled: 1, retries: 1 });
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const { client, clock } = newClient();
    const retryAt = new Date(clock.now() + 3000).toUTCString();
    failFirst((_req, res) => sendJson(res, 429, { errorCode: 429001 }, { 'retry-after': retryAt }));

    await client.getRegistrationState('dev-1');

    expect(clock.sleeps).toEqual([3000]);
  });

  it('waits at least a second after a 429 without Retry-After', async () => {
    failFirst((_req, res) => sendJson(res, 429, { errorCode: 429001 }));
    const { client, clock } = newClient();

    await client.getRegistrationState('dev-1');

    expect(clock.sleeps).toEqual([1000]);
  });

  it('backs off exponentially with full jitter after 5xx', async () => {
    const unavailable: Handler = (_req, res) => sendJson(res, 503, { errorCode: 503000 });
    failFirst(unavailable, unavailable, unavailable);
    const { client, clock } = newClient({ retry: { baseDelayMs: 100, maxDelayMs: 300 } });
    clock.randomValue = 0.5;

    await client.getRegistrationState('dev-1');

    expect(clock.sleeps).toEqual([50, 100, 150]); // half of min(300, 100 * 2^n)
  });

  it('gives up after maxAttempts with the last transient error', async () => {
    server.handler = (_req, res) => sendJson(res, 500, { errorCode: 500000, trackingId: 'tr-5' });
    const { client } = newClient({ retry: { maxAttempts: 3 } });

    const error = (await client.getRegistrationState('dev-1').catch((e: unknown) => e)) as DpsError;

    expect(error).toBeInstanceOf(DpsTransientError);
    expect(error).toMatchObject({ status: 500, attempts: 3, errorCode: 500000, trackingId: 'tr-5' });
    expect(server.requests).toHaveLength(3);
  });

  it('gives up at once when Retry-After is beyond the elapsed-time limit', async () => {
    server.handler = (_req, res) => sendJson(res, 429, { errorCode: 429001 }, { 'retry-after': '120' });
    const { client, clock } = newClient({ retry: { maxElapsedMs: 60_000 } });

    const error = (await client.getRegistrationState('dev-1').catch((e: unknown) => e)) as DpsError;

    expect(error).toBeInstanceOf(DpsThrottledError);
    expect(error.retryAfterMs).toBe(120_000);
    expect(clock.sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
    expect(client.stats().throttled).toBe(1);
  });

  it('retries after a connection reset', async () => {
    failFirst((req, res) => res.socket?.destroy());
    const { client } = newClient();

    await expect(client.getRegistrationState('dev-1')).resolves.toMatchObject({ status: 'assigned' });
    expect(server.requests).toHaveLength(2);
  });

  it('retries after a 2xx body cut off mid-way', async () => {
    failFirst((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"registrationId": "dev-1", "sta', () => res.socket?.destroy());
    });
    const { client } = newClient();

    await expect(client.getRegistrationState('dev-1')).resolves.toMatchObject({ status: 'assigned' });
    expect(server.requests).toHaveLength(2);
  });

  it('treats a complete 2xx response with invalid JSON as transient', async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[{"registrationId": "dev-1"');
    };
    const { client } = newClient({ retry: { maxAttempts: 2 } });

    const error = (await client.getRegistrationState('dev-1').catch((e: unknown) => e)) as DpsError;

    expect(error).toBeInstanceOf(DpsTransientError);
    expect(error.message).toMatch(/invalid JSON/);
    expect(server.requests).toHaveLength(2);
  });

  it('retries when the response headers do not arrive in time', async () => {
    failFirst(() => undefined); // never answers; the client's headers timeout fires
    const { client } = newClient({ http: { headersTimeoutMs: 200 } });

    await expect(client.getRegistrationState('dev-1')).resolves.toMatchObject({ registrationId: 'dev-1' });
    expect(server.requests).toHaveLength(2);
  });

  it('stops waiting when the caller aborts', async () => {
    server.handler = (_req, res) => sendJson(res, 503, { errorCode: 503000 });
    const { client, clock } = newClient();
    const controller = new AbortController();
    const sleep = clock.sleep.bind(clock);
    clock.sleep = async (ms, signal) => {
      controller.abort();
      return sleep(ms, signal);
    };

    await expect(client.getRegistrationState('dev-1', { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(server.requests).toHaveLength(1);
  });
});

describe('operations budget', () => {
  it('keeps every 60 s window within the budget and reports the operations used', async () => {
    const { client, clock } = newClient({ operationsPerMinute: 3 });
    const sentAt: number[] = [];
    server.handler = (_req, res) => {
      sentAt.push(clock.now());
      sendJson(res, 200, state);
    };

    for (let i = 0; i < 7; i++) await client.getRegistrationState('dev-1');

    expect(sentAt).toHaveLength(7);
    for (let i = 0; i + 3 < sentAt.length; i++)
      expect(sentAt[i + 3]! - sentAt[i]!).toBeGreaterThanOrEqual(60_000);
    expect(client.stats()).toEqual({ operations: 7, throttled: 0, retries: 0, budgetWaitMs: 120_000 });

    client.resetStats();
    expect(client.stats()).toEqual({ operations: 0, throttled: 0, retries: 0, budgetWaitMs: 0 });
  });
});
