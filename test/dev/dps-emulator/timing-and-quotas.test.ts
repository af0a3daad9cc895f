// DPS's timing and quotas (docs/dps-contract.md §4.3), with short settings: an assignment that takes a moment
// (202 + retry-after and `assigning` until it is done), and the registration and polling quotas (429 + retry-after
// + a DPS error body, over HTTPS and MQTT). The official device clients, HTTP and MQTT, still end assigned: they
// poll while assigning and wait out the 429s. Assertions are on statuses and counters, never on elapsed time.
import { setTimeout as delay } from 'node:timers/promises';
import type { RegistrationResult } from 'azure-iot-provisioning-device';
import type { Agent } from 'undici';
import { buildDeviceSasToken, deriveDeviceKey } from '../../../src/dps/sas';
import type { DpsEmulator, DpsEmulatorOptions } from '../../../dev/dps-emulator';
import { DPS_QUOTAS, dpsEmulatorOptionsSchema, FAST_TIMING } from '../../../dev/dps-emulator';
import { generateCertificatePems } from '../../../dev/dps-emulator/certificate';
import { CliUsageError, parseCliArguments } from '../../../dev/dps-emulator/cli';
import { DeviceQuotaGuard, SlidingWindowLimiter } from '../../../dev/dps-emulator/quotas';
import type { RequestContext } from '../../../dev/dps-emulator/routing';
import { StatsRecorder } from '../../../dev/dps-emulator/stats';
import { describeTiming } from '../../../dev/dps-emulator/timing';
import { createSdkDeviceClient, createSdkMqttDeviceClient } from '../../../dev/dps-emulator/sdk-clients';
import {
  emulatorDispatcher,
  HUB_A,
  ownerAuthorization,
  rawCall,
  startTestEmulator,
  testKey,
  type RawResponse,
} from './support/emulator';
import { connectRawMqttDevice } from './support/raw-mqtt';

const API = 'api-version=2021-10-01';
const GROUP_ID = 'timing-group';
const groupKey = testKey('timing-group');
let certificate: { certPem: string; keyPem: string };
const running: { emulator: DpsEmulator; dispatcher: Agent }[] = [];

beforeAll(async () => {
  certificate = await generateCertificatePems();
});

afterEach(async () => {
  for (const { emulator, dispatcher } of running.splice(0)) {
    await dispatcher.close();
    await emulator.stop();
  }
});

/** An emulator with one static-allocation group (every device to HUB_A); stopped after the test. */
async function startEmulator(options: DpsEmulatorOptions) {
  const emulator = await startTestEmulator({ certificate, ...options });
  const dispatcher = emulatorDispatcher(emulator);
  running.push({ emulator, dispatcher });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUP_ID,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: groupKey } },
    allocationPolicy: 'static',
    iotHubs: [HUB_A],
  });
  const device = (registrationId: string) => {
    const headers = {
      authorization: buildDeviceSasToken(
        emulator.idScope,
        registrationId,
        deriveDeviceKey(groupKey, registrationId),
        Math.floor(Date.now() / 1000) + 600,
      ),
      'content-type': 'application/json',
    };
    const path = `/${emulator.idScope}/registrations/${registrationId}`;
    return {
      register: () =>
        rawCall(emulator, dispatcher, 'PUT', `${path}/register?${API}`, {
          headers,
          body: JSON.stringify({ registrationId }),
        }),
      poll: (operationId: string) =>
        rawCall(emulator, dispatcher, 'GET', `${path}/operations/${operationId}?${API}`, { headers }),
      statusLookup: () =>
        rawCall(emulator, dispatcher, 'POST', `${path}?${API}`, {
          headers,
          body: JSON.stringify({ registrationId }),
        }),
    };
  };
  const serviceState = (registrationId: string) =>
    rawCall(emulator, dispatcher, 'GET', `/registrations/${registrationId}?${API}`, {
      headers: { authorization: ownerAuthorization(emulator) },
    });
  return { emulator, device, serviceState };
}

function operationIdOf(response: RawResponse): string {
  return (response.json as { operationId: string }).operationId;
}

function expectThrottled(response: RawResponse, maxRetryAfterSeconds: number): void {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxRetryAfterSeconds);
  expect(response.headers['x-ms-error-code']).toBe('429001');
  expect(response.json).toEqual({
    errorCode: 429001,
    trackingId: expect.any(String),
    message: expect.stringMatching(/^Too many requests/),
    timestampUtc: expect.any(String),
  });
}

type SdkClientFactory = typeof createSdkDeviceClient | typeof createSdkMqttDeviceClient;

function registerWith(
  create: SdkClientFactory,
  emulator: DpsEmulator,
  registrationId: string,
): Promise<RegistrationResult> {
  const client = create(emulator, registrationId, deriveDeviceKey(groupKey, registrationId));
  return new Promise((resolve, reject) => {
    client.register((error, result) => (error ? reject(error) : resolve(result!)));
  });
}

const SDK_TRANSPORTS: [string, SdkClientFactory][] = [
  ['HTTP', createSdkDeviceClient],
  ['MQTT', createSdkMqttDeviceClient],
];

describe('assignment delay', () => {
  it('answers 202 + retry-after + assigning until the assignment is done; the service API shows assigning', async () => {
    const { emulator, device, serviceState } = await startEmulator({
      assignmentDelayMs: 1000,
      retryAfterSeconds: 1,
    });
    const dev = device('slow-device-1');
    const put = await dev.register();
    expect(put.status).toBe(202);
    expect(put.headers['retry-after']).toBe('1');
    expect(put.json).toMatchObject({ status: 'assigning' });
    expect((await serviceState('slow-device-1')).json).toMatchObject({ status: 'assigning' });

    const early = await dev.poll(operationIdOf(put));
    expect(early.status).toBe(202);
    expect(early.headers['retry-after']).toBe('1');
    expect(early.json).toEqual({ operationId: operationIdOf(put), status: 'assigning' });

    await emulator.settled(); // every registration has finished, the delay included
    const done = await dev.poll(operationIdOf(put));
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      status: 'assigned',
      registrationState: { assignedHub: HUB_A, status: 'assigned' },
    });
    expect((await serviceState('slow-device-1')).json).toMatchObject({
      status: 'assigned',
      assignedHub: HUB_A,
    });
  });

  it('answers the same over MQTT: 202 with retry-after on the answer topic, then 200', async () => {
    const { emulator } = await startEmulator({ assignmentDelayMs: 1000, retryAfterSeconds: 1 });
    const mqtt = await connectRawMqttDevice(
      emulator,
      'slow-mqtt-1',
      deriveDeviceKey(groupKey, 'slow-mqtt-1'),
    );
    try {
      const accepted = await mqtt.register('1');
      expect(accepted.topic).toBe('$dps/registrations/res/202/?$rid=1&retry-after=1');
      const operationId = accepted.json.operationId as string;
      const early = await mqtt.poll('2', operationId);
      expect(early.topic).toBe('$dps/registrations/res/202/?$rid=2&retry-after=1');
      expect(early.json).toEqual({ operationId, status: 'assigning' });
      await emulator.settled();
      const done = await mqtt.poll('3', operationId);
      expect(done.topic).toBe('$dps/registrations/res/200/?$rid=3');
      expect(done.json).toMatchObject({ status: 'assigned', registrationState: { assignedHub: HUB_A } });
    } finally {
      mqtt.close();
    }
  });

  it.each(SDK_TRANSPORTS)(
    'lets the official %s client poll while assigning; it ends assigned',
    async (_name, create) => {
      const { emulator } = await startEmulator({ assignmentDelayMs: 300, retryAfterSeconds: 0 });
      const result = await registerWith(create, emulator, 'sdk-slow-device');
      expect(result).toMatchObject({ status: 'assigned', assignedHub: HUB_A });
      const { calls, statuses } = emulator.stats;
      // The register answer and at least one poll said 202 assigning; a later poll said 200.
      expect(statuses['202']).toBeGreaterThanOrEqual(2);
      expect(calls['device.operationStatus']).toBeGreaterThanOrEqual(2);
    },
  );

  it('does not hold stop(): the waits of registrations in progress are cut short', async () => {
    const { emulator, device } = await startEmulator({ assignmentDelayMs: 600_000 });
    const ids = Array.from({ length: 20 }, (_, index) => `never-assigned-${index}`);
    const answers = await Promise.all(ids.map((id) => device(id).register()));
    expect(answers.map((answer) => answer.status)).toEqual(ids.map(() => 202));
    const { dispatcher } = running.pop()!; // stopped here, not after the test
    await dispatcher.close();
    await emulator.stop(); // would outlast the test's timeout if it waited for the delay
    await emulator.settled();
  });
});

describe('quotas', () => {
  it('answers registrations over the instance quota 429 with retry-after and a DPS error body', async () => {
    const { emulator, device, serviceState } = await startEmulator({
      quotas: { registrations: { limit: 2, windowMs: 60_000 }, polls: false },
    });
    expect((await device('quota-device-1').register()).status).toBe(202);
    expect((await device('quota-device-2').register()).status).toBe(202);
    expectThrottled(await device('quota-device-3').register(), 60);
    // A status lookup counts as a registration; the service API has no such quota.
    expectThrottled(await device('quota-device-1').statusLookup(), 60);
    expect((await serviceState('quota-device-1')).status).toBe(200);
    expect(emulator.stats).toMatchObject({
      throttled: 2,
      quotas: { registrations: 2, polls: 0 },
    });
  });

  it('answers polls over the per-device quota 429; other devices poll on', async () => {
    const { emulator, device } = await startEmulator({
      quotas: { registrations: false, polls: { limit: 2, windowMs: 60_000 } },
    });
    const first = device('poll-device-1');
    const operationId = operationIdOf(await first.register());
    await emulator.settled();
    expect((await first.poll(operationId)).status).toBe(200);
    expect((await first.poll(operationId)).status).toBe(200);
    expectThrottled(await first.poll(operationId), 60);
    // Registration ids are case-insensitive: the same device.
    expectThrottled(await device('POLL-DEVICE-1').poll(operationId), 60);

    const second = device('poll-device-2');
    const secondOperation = operationIdOf(await second.register());
    await emulator.settled();
    expect((await second.poll(secondOperation)).status).toBe(200);
    expect(emulator.stats.quotas).toEqual({ registrations: 0, polls: 2 });
  });

  it('sends the 429 over MQTT on the answer topic, with retry-after', async () => {
    const { emulator } = await startEmulator({
      quotas: { registrations: false, polls: { limit: 1, windowMs: 60_000 } },
    });
    const mqtt = await connectRawMqttDevice(
      emulator,
      'poll-mqtt-1',
      deriveDeviceKey(groupKey, 'poll-mqtt-1'),
    );
    try {
      const operationId = (await mqtt.register('1')).json.operationId as string;
      await emulator.settled();
      expect((await mqtt.poll('2', operationId)).topic).toBe('$dps/registrations/res/200/?$rid=2');
      const throttled = await mqtt.poll('3', operationId);
      const [, retryAfter] = /^\$dps\/registrations\/res\/429\/\?\$rid=3&retry-after=(\d+)$/.exec(
        throttled.topic,
      ) ?? [undefined, '0'];
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      expect(throttled.json).toMatchObject({ errorCode: 429001 });
      expect(emulator.stats.quotas.polls).toBe(1);
    } finally {
      mqtt.close();
    }
  });

  it('lets the official MQTT client wait out both quotas (it retries after retry-after); it ends assigned', async () => {
    // Small windows, so that the client's waits (retry-after) stay short.
    const { emulator, device } = await startEmulator({
      assignmentDelayMs: 1000,
      retryAfterSeconds: 0,
      quotas: { registrations: { limit: 2, windowMs: 2000 }, polls: { limit: 2, windowMs: 1000 } },
    });
    // Two other devices take the registration quota: the client's first register is answered 429.
    expect((await device('quota-filler-1').register()).status).toBe(202);
    expect((await device('quota-filler-2').register()).status).toBe(202);
    // retry-after 0 while assigning: the client polls at once, past the poll quota.
    const result = await registerWith(createSdkMqttDeviceClient, emulator, 'sdk-throttled-device');
    expect(result).toMatchObject({ status: 'assigned', assignedHub: HUB_A });
    expect(emulator.stats.quotas.registrations).toBeGreaterThanOrEqual(1);
    expect(emulator.stats.quotas.polls).toBeGreaterThanOrEqual(1);
  });

  it('fails the official HTTP client with a ThrottlingError that carries retry-after; registering again after it gets through', async () => {
    // The HTTP transport's own 429 branch is unreachable: azure-iot-http-base turns every status >= 300 into an error.
    const { emulator, device } = await startEmulator({
      retryAfterSeconds: 1,
      quotas: { registrations: { limit: 2, windowMs: 2000 }, polls: { limit: 2, windowMs: 1000 } },
    });
    expect((await device('quota-filler-1').register()).status).toBe(202);
    expect((await device('quota-filler-2').register()).status).toBe(202);
    const failure = (await registerWith(createSdkDeviceClient, emulator, 'sdk-http-device').then(
      () => undefined,
      (error: unknown) => error,
    )) as { name?: string; response?: { statusCode: number; headers: Record<string, string> } } | undefined;
    expect(failure).toMatchObject({ name: 'ThrottlingError', response: { statusCode: 429 } });
    const retryAfterSeconds = Number(failure?.response?.headers['retry-after']);
    expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);

    // What device code should do (docs/dps-contract.md §4): wait what retry-after says, then register again. Polls
    // one second apart (retry-after 1) stay within the poll quota.
    await delay(retryAfterSeconds * 1000);
    const result = await registerWith(createSdkDeviceClient, emulator, 'sdk-http-device');
    expect(result).toMatchObject({ status: 'assigned', assignedHub: HUB_A });
    expect(emulator.stats.quotas).toEqual({ registrations: 1, polls: 0 });
  });
});

describe('settings', () => {
  it('are DPS-like by default; FAST_TIMING switches them off', () => {
    expect(dpsEmulatorOptionsSchema.parse({})).toMatchObject({
      assignmentDelayMs: 4000,
      retryAfterSeconds: 3,
      quotas: DPS_QUOTAS,
    });
    expect(dpsEmulatorOptionsSchema.parse({ quotas: { polls: false } }).quotas).toEqual({
      registrations: DPS_QUOTAS.registrations,
      polls: false,
    });
    expect(describeTiming(dpsEmulatorOptionsSchema.parse({}))).toBe(
      'assignment 4000 ms, retry-after 3 s, quotas 1000/60 s registrations, 5/10 s polls per device',
    );
    expect(describeTiming(FAST_TIMING)).toBe('assignment 0 ms, retry-after 0 s, no quotas');
  });

  it('come from flags and environment on the command line', () => {
    expect(parseCliArguments([], {}).options).not.toHaveProperty('quotas');
    expect(
      parseCliArguments(
        ['--assignment-delay-ms', '250', '--registrations-per-minute', '10', '--polls-per-10s', '3'],
        { DPS_EMULATOR_RETRY_AFTER: '2' },
      ).options,
    ).toMatchObject({
      assignmentDelayMs: 250,
      retryAfterSeconds: 2,
      quotas: { registrations: { limit: 10, windowMs: 60_000 }, polls: { limit: 3, windowMs: 10_000 } },
    });
    expect(parseCliArguments(['--no-quotas'], {}).options.quotas).toBe(false);
    expect(parseCliArguments([], { DPS_EMULATOR_NO_QUOTAS: '1' }).options.quotas).toBe(false);
    expect(parseCliArguments([], { DPS_EMULATOR_ASSIGNMENT_DELAY_MS: '0' }).options.assignmentDelayMs).toBe(
      0,
    );
    expect(() => parseCliArguments(['--no-quotas', '--polls-per-10s', '3'], {})).toThrow(CliUsageError);
    expect(() => parseCliArguments([], { DPS_EMULATOR_NO_QUOTAS: 'yes' })).toThrow(/DPS_EMULATOR_NO_QUOTAS/);
    expect(() => parseCliArguments(['--assignment-delay-ms', '-1'], {})).toThrow(/--assignment-delay-ms/);
  });

  it('slide: a slot frees when the oldest admission leaves the window', () => {
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 1000 });
    expect(limiter.tryAdmit('a', 0)).toEqual({ admitted: true });
    expect(limiter.tryAdmit('a', 100)).toEqual({ admitted: true });
    expect(limiter.tryAdmit('a', 200)).toEqual({ admitted: false, retryAfterMs: 800 });
    expect(limiter.tryAdmit('b', 200)).toEqual({ admitted: true }); // keys are counted apart
    expect(limiter.tryAdmit('a', 1000)).toEqual({ admitted: true }); // the refused request took no slot
    expect(limiter.tryAdmit('a', 1050)).toEqual({ admitted: false, retryAfterMs: 50 });
  });

  it('answer retry-after in whole seconds, at least 1', async () => {
    let now = 0;
    const stats = new StatsRecorder();
    const guard = new DeviceQuotaGuard(
      { registrations: { limit: 1, windowMs: 100 }, polls: false },
      stats,
      () => now,
    );
    const route = guard.guard('PUT', ['scope', 'registrations', 'device-1', 'register'], {
      name: 'device.register',
      api: 'device',
      handle: () => ({ status: 202 }),
    })!;
    const context = {} as RequestContext;
    expect(await route.handle(context)).toEqual({ status: 202 });
    now = 10;
    expect(() => route.handle(context)).toThrow(
      expect.objectContaining({ status: 429, errorCode: 429001, headers: { 'retry-after': '1' } }),
    );
    expect(stats.snapshot().quotas).toEqual({ registrations: 1, polls: 0 });
    // Polls are not limited here, and a 405 on a quota route's path is not counted.
    const poll = { name: 'device.operationStatus', api: 'device' as const, handle: () => ({ status: 200 }) };
    expect(guard.guard('GET', ['scope', 'registrations', 'device-1', 'operations', 'op'], poll)).toBe(poll);
    const wrongMethod = { name: 'device.register', api: 'device' as const, handle: () => ({ status: 405 }) };
    expect(guard.guard('GET', ['scope', 'registrations', 'device-1', 'register'], wrongMethod)).toBe(
      wrongMethod,
    );
  });
});
