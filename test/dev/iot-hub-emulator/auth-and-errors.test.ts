// Who may call an emulated hub (SAS tokens of its policies: iothubowner, the read-only registryRead) and what a
// refused or malformed call gets back: IoT Hub's error body, never a crash.
import type { Agent } from 'undici';
import { buildServiceSasToken } from '../../../src/dps/sas';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { createSdkRegistry } from '../../../dev/iot-hub-emulator/sdk-clients';
import {
  hubDispatcher,
  HUB_A,
  HUB_B,
  rawHubCall,
  registryFor,
  rejection,
  startTestEmulator,
} from './support';

let emulator: DpsEmulator;
let dispatcher: Agent;

beforeAll(async () => {
  emulator = await startTestEmulator();
  dispatcher = hubDispatcher(emulator);
  await registryFor(emulator, HUB_A).create({ deviceId: 'auth-device' });
});

afterAll(async () => {
  await emulator.stop();
  await dispatcher.close();
});

function ownerKey(hub: string): string {
  return /SharedAccessKey=([^;]+)/.exec(emulator.hubConnectionString(hub))![1]!;
}

function ownerToken(hub: string, expiry = Math.floor(Date.now() / 1000) + 3600): string {
  return buildServiceSasToken(hub, 'iothubowner', ownerKey(hub), expiry);
}

describe('shared access signatures', () => {
  it('refuses a token signed with the wrong key', async () => {
    const wrong = emulator
      .hubConnectionString(HUB_A)
      .replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${'A'.repeat(43)}=`);
    const error = await rejection(
      createSdkRegistry(emulator, HUB_A, { connectionString: wrong }).get('auth-device'),
    );
    expect(error.name).toBe('UnauthorizedError');
    expect(error.message).toMatch(/signature does not match/);
  });

  it('lets registryRead read, count and query, and refuses its writes', async () => {
    const reader = registryFor(emulator, HUB_A, { policy: 'registryRead' });
    expect((await reader.get('auth-device')).responseBody.deviceId).toBe('auth-device');
    expect((await reader.getTwin('auth-device')).responseBody.deviceId).toBe('auth-device');
    expect((await reader.getRegistryStatistics()).responseBody.totalDeviceCount).toBe(1);
    expect((await reader.createQuery('SELECT COUNT() AS n FROM devices').next()).result).toEqual([{ n: 1 }]);

    for (const write of [
      reader.create({ deviceId: 'reader-device' }),
      reader.update({ deviceId: 'auth-device', status: 'disabled' }),
      reader.delete('auth-device'),
      reader.updateTwin('auth-device', { tags: { a: 1 } }, '*'),
    ]) {
      const error = await rejection(write);
      expect(error.name).toBe('UnauthorizedError');
      expect(error.message).toMatch(/^Principal registryRead is not authorized for (PUT|DELETE|PATCH) on /);
    }
    expect(emulator.hubs.registry(HUB_A).getDevice('auth-device')?.status).toBe('enabled');
  });

  it('refuses an expired token, and a token for another hub', async () => {
    const expired = ownerToken(HUB_A, Math.floor(Date.now() / 1000) - 10);
    const error = await rejection(
      createSdkRegistry(emulator, HUB_A, { sharedAccessSignature: expired }).get('auth-device'),
    );
    expect(error.name).toBe('UnauthorizedError');
    expect(error.message).toMatch(/token expired/);

    const forB = await rawHubCall(
      emulator,
      dispatcher,
      HUB_A,
      'GET',
      '/devices/auth-device?api-version=2021-04-12',
      {
        headers: { authorization: ownerToken(HUB_B) },
      },
    );
    expect(forB.status).toBe(401);
  });

  it('answers an unknown hub with IotHubNotFound', async () => {
    emulator.setLinkedHubs([...emulator.linkedHubs, { hostName: 'short-lived.azure-devices.net' }]);
    const registry = registryFor(emulator, 'short-lived.azure-devices.net');
    const response = await rawHubCall(
      emulator,
      dispatcher,
      'nowhere.azure-devices.net',
      'GET',
      '/statistics/devices?api-version=2021-04-12',
    );
    expect(response.status).toBe(404);
    expect(response.headers['iothub-errorcode']).toBe('IotHubNotFound');
    // A hub removed from the links keeps its registry.
    emulator.setLinkedHubs([{ hostName: HUB_A }]);
    expect((await registry.getRegistryStatistics()).responseBody.totalDeviceCount).toBe(0);
  });
});

describe('error answers', () => {
  it("carry IoT Hub's body: Message 'ErrorCode:<code>;<text>', ExceptionMessage, iothub-errorcode", async () => {
    const response = await rawHubCall(
      emulator,
      dispatcher,
      HUB_A,
      'GET',
      '/devices/missing?api-version=2021-04-12',
      {
        headers: { authorization: ownerToken(HUB_A) },
      },
    );
    expect(response.status).toBe(404);
    expect(response.headers['iothub-errorcode']).toBe('DeviceNotFound');
    expect(response.json).toEqual({
      Message: "ErrorCode:DeviceNotFound;Device 'missing' not found",
      ExceptionMessage: expect.stringMatching(
        /^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d$/,
      ),
    });
  });

  it('answers bad input with a clear 4xx', async () => {
    const authorization = ownerToken(HUB_A);
    const call = (method: 'GET' | 'PUT' | 'POST' | 'PATCH', path: string, body?: string) =>
      rawHubCall(emulator, dispatcher, HUB_A, method, path, {
        headers: { authorization, 'content-type': 'application/json' },
        body,
      });
    const cases: Array<[Awaited<ReturnType<typeof call>>, number, RegExp]> = [
      [await call('GET', '/devices/auth-device'), 400, /InvalidProtocolVersion;api-version is required/],
      [await call('GET', '/devices/auth-device?api-version=1999-01-01'), 400, /InvalidProtocolVersion/],
      [await call('PUT', '/devices/x?api-version=2021-04-12', '{not json'), 400, /not valid JSON/],
      [await call('PUT', '/devices/x?api-version=2021-04-12', '{"deviceId":"y"}'), 400, /does not match/],
      [await call('PUT', '/devices/x?api-version=2021-04-12', '{"status":"paused"}'), 400, /status must be/],
      [await call('PUT', '/devices/%E0%A4%A?api-version=2021-04-12', '{}'), 400, /not validly URL-encoded/],
      [await call('PATCH', '/twins/auth-device?api-version=2021-04-12', '[1]'), 400, /must be a twin/],
      [
        await call('PATCH', '/twins/auth-device?api-version=2021-04-12', '{"properties":{"reported":{}}}'),
        400,
        /written by the device/,
      ],
      [
        await call('POST', '/devices/query?api-version=2021-04-12', '{"query":""}'),
        400,
        /query specification/,
      ],
      [
        await call('POST', '/devices/query?api-version=2021-04-12', '{"query":"SELECT * FROM devices"}'),
        200,
        /.*/,
      ],
      [await call('GET', '/jobs?api-version=2021-04-12'), 404, /NotFound/],
      [await call('PATCH', '/devices/auth-device?api-version=2021-04-12', '{}'), 405, /MethodNotAllowed/],
      [
        await call(
          'PUT',
          '/devices/big?api-version=2021-04-12',
          JSON.stringify({ deviceId: 'big', pad: 'x'.repeat(2 * 1024 * 1024) }),
        ),
        413,
        /RequestEntityTooLarge/,
      ],
    ];
    for (const [response, status, message] of cases) {
      expect(response.status).toBe(status);
      if (status >= 400) expect((response.json as { Message: string }).Message).toMatch(message);
    }
    const badToken = await call(
      'POST',
      '/devices/query?api-version=2021-04-12',
      '{"query":"SELECT * FROM devices"}',
    );
    expect(badToken.status).toBe(200);
    const continuation = await rawHubCall(
      emulator,
      dispatcher,
      HUB_A,
      'POST',
      '/devices/query?api-version=2021-04-12',
      {
        headers: { authorization, 'x-ms-continuation': 'not-ours' },
        body: '{"query":"SELECT * FROM devices"}',
      },
    );
    expect(continuation.status).toBe(400);
  });

  it("reaches a hub through the emulator's own address when the token names it", async () => {
    const response = await rawHubCall(
      emulator,
      dispatcher,
      `127.0.0.1:${emulator.hubPort}`,
      'GET',
      '/statistics/devices?api-version=2021-04-12',
      {
        headers: { authorization: ownerToken(HUB_A) },
      },
    );
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ totalDeviceCount: 1, enabledDeviceCount: 1, disabledDeviceCount: 0 });
  });
});
