// Raw HTTPS calls for what the official SDKs never send: our own client's `HostName=127.0.0.1:PORT` tokens,
// the documented device token form, malformed input (always a DPS error body, never a 500), paging headers
// and continuation tokens that survive concurrent inserts.
import type { Agent } from 'undici';
import {
  buildDeviceSasToken,
  deriveDeviceKey,
  encodeUriComponentStrict,
  parseServiceConnectionString,
} from '../../../src/dps/sas';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import {
  emulatorDispatcher,
  ownerAuthorization,
  ownerKeyOf,
  rawCall,
  serviceToken,
  startTestEmulator,
  testKey,
} from './support/emulator';

let emulator: DpsEmulator;
let dispatcher: Agent;
const API = 'api-version=2021-10-01';

beforeAll(async () => {
  emulator = await startTestEmulator({ maxPageSize: 50, maxBodyBytes: 4096 });
  dispatcher = emulatorDispatcher(emulator);
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'raw-group',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('raw') } },
  });
});

afterAll(async () => {
  await dispatcher.close();
  await emulator.stop();
});

const auth = () => ({ authorization: ownerAuthorization(emulator) });

function expectErrorBody(json: unknown, errorCode: number): void {
  expect(json).toEqual({
    errorCode,
    trackingId: expect.any(String),
    message: expect.any(String),
    timestampUtc: expect.any(String),
  });
  expect((json as { message: string }).message).not.toMatch(/\bat .*\(.*:\d+:\d+\)/);
}

describe('service authentication', () => {
  it('accepts tokens for 127.0.0.1:PORT, URL-encoded or not, from the emulator connection string', async () => {
    const cs = parseServiceConnectionString(emulator.serviceConnectionString);
    expect(cs.hostName).toBe(`127.0.0.1:${emulator.port}`);
    for (const resource of [cs.hostName, encodeUriComponentStrict(cs.hostName), 'localhost']) {
      const response = await rawCall(emulator, dispatcher, 'GET', `/enrollmentGroups/raw-group?${API}`, {
        headers: { authorization: serviceToken(cs.sharedAccessKey, cs.sharedAccessKeyName, resource) },
      });
      expect(response.status).toBe(200);
    }
  });

  it('refuses expired tokens, tokens for another host, unknown policies and Bearer tokens with 401', async () => {
    const key = ownerKeyOf(emulator);
    const host = emulator.serviceHostName;
    const headers = [
      serviceToken(key, 'provisioningserviceowner', host, Math.floor(Date.now() / 1000) - 10),
      serviceToken(key, 'provisioningserviceowner', 'other-dps.azure-devices-provisioning.net'),
      serviceToken(key, 'nosuchpolicy', host),
      'Bearer eyJhbGciOi',
      'garbage',
    ];
    for (const authorization of headers) {
      const response = await rawCall(emulator, dispatcher, 'GET', `/enrollmentGroups/raw-group?${API}`, {
        headers: { authorization },
      });
      expect(response.status).toBe(401);
      expectErrorBody(response.json, 401002);
      expect(response.headers['x-ms-error-code']).toBe('401002');
    }
    const missing = await rawCall(emulator, dispatcher, 'GET', `/enrollmentGroups/raw-group?${API}`);
    expect(missing.status).toBe(401);
  });
});

describe('malformed input', () => {
  it('answers with DPS error bodies, never a 500', async () => {
    const cases: Array<{
      method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
      path: string;
      body?: string;
      status: number;
      code: number;
    }> = [
      {
        method: 'PUT',
        path: `/enrollmentGroups/bad-json?${API}`,
        body: '{"enrollmentGroupId":',
        status: 400,
        code: 400004,
      },
      { method: 'PUT', path: `/enrollmentGroups/no-body?${API}`, status: 400, code: 400004 },
      {
        method: 'PUT',
        path: `/enrollmentGroups/wrong-shape?${API}`,
        body: '{"enrollmentGroupId":"wrong-shape","attestation":{"type":"magic"}}',
        status: 400,
        code: 400004,
      },
      {
        method: 'PUT',
        path: `/enrollmentGroups/mismatch?${API}`,
        body: '{"enrollmentGroupId":"other","attestation":{"type":"symmetricKey"}}',
        status: 400,
        code: 400004,
      },
      {
        method: 'PUT',
        path: `/enrollmentGroups/-bad-id-?${API}`,
        body: '{"enrollmentGroupId":"-bad-id-","attestation":{"type":"symmetricKey"}}',
        status: 400,
        code: 400004,
      },
      {
        method: 'PUT',
        path: `/enrollmentGroups/bad-key?${API}`,
        body: '{"enrollmentGroupId":"bad-key","attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":"not base64!"}}}',
        status: 400,
        code: 400004,
      },
      {
        method: 'PUT',
        path: `/enrollmentGroups/unlinked?${API}`,
        body: '{"enrollmentGroupId":"unlinked","attestation":{"type":"symmetricKey"},"iotHubs":["nope.azure-devices.net"]}',
        status: 400,
        code: 400004,
      },
      { method: 'GET', path: `/enrollmentGroups/%E0%A4%A?${API}`, status: 400, code: 400004 },
      { method: 'GET', path: '/enrollmentGroups/raw-group', status: 400, code: 400004 },
      {
        method: 'GET',
        path: `/enrollmentGroups/raw-group?api-version=1999-01-01`,
        status: 400,
        code: 400004,
      },
      {
        method: 'POST',
        path: `/enrollmentGroups/query?${API}`,
        body: '{"nope":1}',
        status: 400,
        code: 400004,
      },
      {
        method: 'POST',
        path: `/enrollmentGroups/query?${API}`,
        body: '{"query":"SELECT * FROM enrollmentGroups WHERE x = 1"}',
        status: 400,
        code: 400004,
      },
      { method: 'GET', path: `/nothing/here?${API}`, status: 404, code: 404000 },
      { method: 'PATCH', path: `/enrollmentGroups/raw-group?${API}`, status: 405, code: 405000 },
      { method: 'GET', path: `/registrations/raw-group/query?${API}`, status: 405, code: 405000 },
      {
        method: 'PUT',
        path: `/enrollmentGroups/huge?${API}`,
        body: `{"x":"${'a'.repeat(5000)}"}`,
        status: 413,
        code: 413000,
      },
      {
        // Device API bodies: DPS's 96 KB message limit, whatever the service API takes (4 KiB in this suite).
        method: 'PUT',
        path: `/${emulator.idScope}/registrations/big-device/register?api-version=2019-03-31`,
        body: JSON.stringify({ registrationId: 'big-device', payload: { blob: 'a'.repeat(96 * 1024) } }),
        status: 413,
        code: 413000,
      },
      {
        // Under the device limit, past the service one: the device route answers (no token: 401).
        method: 'PUT',
        path: `/${emulator.idScope}/registrations/mid-device/register?api-version=2019-03-31`,
        body: JSON.stringify({ registrationId: 'mid-device', payload: { blob: 'a'.repeat(8 * 1024) } }),
        status: 401,
        code: 401002,
      },
      {
        method: 'POST',
        path: `/registrations/no-such-group/query?${API}`,
        body: '{"query":"*"}',
        status: 404,
        code: 404201,
      },
      { method: 'GET', path: `/registrations/no-such-device?${API}`, status: 404, code: 404202 },
    ];
    for (const c of cases) {
      const response = await rawCall(emulator, dispatcher, c.method, c.path, {
        headers: { ...auth(), 'content-type': 'application/json' },
        body: c.body,
      });
      expect({ path: c.path, status: response.status }).toEqual({ path: c.path, status: c.status });
      expectErrorBody(response.json, c.code);
    }
    expect(emulator.stats.statuses['500']).toBeUndefined();
  });

  it('rejects bad paging headers', async () => {
    const badHeaders: Array<Record<string, string>> = [
      { 'x-ms-max-item-count': 'ten' },
      { 'x-ms-max-item-count': '0' },
      { 'x-ms-continuation': 'not-a-token' },
    ];
    for (const headers of badHeaders) {
      const response = await rawCall(emulator, dispatcher, 'POST', `/registrations/raw-group/query?${API}`, {
        headers: { ...auth(), ...headers },
      });
      expect(response.status).toBe(400);
      expectErrorBody(response.json, 400004);
    }
  });
});

describe('registration state paging', () => {
  it('keeps continuation tokens valid while registrations are added and removed', async () => {
    emulator.seed({ groupIds: ['paging-group'], perGroup: { assigned: 30 } });
    const query = (token?: string, size = '10') =>
      rawCall(emulator, dispatcher, 'POST', `/registrations/paging-group/query?${API}`, {
        headers: { ...auth(), 'x-ms-max-item-count': size, ...(token ? { 'x-ms-continuation': token } : {}) },
      });
    const first = await query();
    expect(first.headers['x-ms-item-type']).toBe('DeviceRegistration');
    const firstIds = (first.json as Array<{ registrationId: string }>).map((s) => s.registrationId);
    expect(firstIds).toHaveLength(10);
    const token = first.headers['x-ms-continuation'] as string;
    expect(token).toEqual(expect.any(String));

    // Concurrent changes: a device sorted before the page boundary, one after, and a deletion after it.
    emulator.seed({ groupIds: ['paging-group'], registrationIdInfix: 'aaa-', perGroup: { failed: 1 } });
    emulator.seed({ groupIds: ['paging-group'], registrationIdInfix: 'zzz-', perGroup: { failed: 1 } });
    emulator.store.deleteRegistration('paging-group-device-000015');

    const rest: string[] = [];
    let next: string | undefined = token;
    while (next) {
      const page = await query(next);
      rest.push(...(page.json as Array<{ registrationId: string }>).map((s) => s.registrationId));
      next = page.headers['x-ms-continuation'] as string | undefined;
    }
    expect(rest[0]).toBe('paging-group-device-000010');
    expect(rest).not.toContain('paging-group-device-000015');
    expect(rest.at(-1)).toBe('paging-group-zzz-000000');
    expect(rest.filter((id) => firstIds.includes(id))).toEqual([]);
    expect(rest).toHaveLength(20);
  });

  it('clamps the page size to maxPageSize and says so', async () => {
    const response = await rawCall(emulator, dispatcher, 'POST', `/registrations/paging-group/query?${API}`, {
      headers: { ...auth(), 'x-ms-max-item-count': '1000' },
    });
    expect(response.headers['x-ms-max-item-count']).toBe('50');
    expect((response.json as unknown[]).length).toBeLessThanOrEqual(50);
  });
});

describe('device API without the SDK', () => {
  const registrationId = 'raw-device-1';
  const deviceKey = () => deriveDeviceKey(testKey('raw'), registrationId);

  it('registers with the documented (URL-encoded) token and polls the operation', async () => {
    const authorization = buildDeviceSasToken(
      emulator.idScope,
      registrationId,
      deviceKey(),
      Math.floor(Date.now() / 1000) + 600,
    );
    const headers = { authorization, 'content-type': 'application/json' };
    const put = await rawCall(
      emulator,
      dispatcher,
      'PUT',
      `/${emulator.idScope}/registrations/${registrationId}/register?${API}`,
      {
        headers,
        body: JSON.stringify({ registrationId, payload: { a: 1 } }),
      },
    );
    expect(put.status).toBe(202);
    expect(put.headers['retry-after']).toBe('0');
    const { operationId } = put.json as { operationId: string };
    expect(operationId).toMatch(/^5\.[0-9a-f]{16}\./);
    await emulator.settled();
    const poll = await rawCall(
      emulator,
      dispatcher,
      'GET',
      `/${emulator.idScope}/registrations/${registrationId}/operations/${operationId}?${API}`,
      {
        headers,
      },
    );
    expect(poll.status).toBe(200);
    expect(poll.json).toMatchObject({
      operationId,
      status: 'assigned',
      registrationState: {
        registrationId,
        status: 'assigned',
        symmetricKey: { enrollmentGroupId: 'raw-group' },
      },
    });
    const lookup = await rawCall(
      emulator,
      dispatcher,
      'POST',
      `/${emulator.idScope}/registrations/${registrationId}?${API}`,
      {
        headers,
        body: JSON.stringify({ registrationId }),
      },
    );
    expect(lookup.json).toMatchObject({ registrationId, status: 'assigned' });
  });

  it('answers 401 with the DPS body for a bad token or another id scope, and 400 for a body that does not match', async () => {
    const good = buildDeviceSasToken(
      emulator.idScope,
      registrationId,
      deviceKey(),
      Math.floor(Date.now() / 1000) + 600,
    );
    const bad = buildDeviceSasToken(
      emulator.idScope,
      registrationId,
      testKey('nope'),
      Math.floor(Date.now() / 1000) + 600,
    );
    const attempts = [
      { scope: emulator.idScope, authorization: bad, body: { registrationId }, status: 401 },
      { scope: '0ne99999999', authorization: good, body: { registrationId }, status: 401 },
      { scope: emulator.idScope, authorization: good, body: { registrationId: 'someone-else' }, status: 400 },
    ];
    for (const attempt of attempts) {
      const response = await rawCall(
        emulator,
        dispatcher,
        'PUT',
        `/${attempt.scope}/registrations/${registrationId}/register?${API}`,
        {
          headers: { authorization: attempt.authorization, 'content-type': 'application/json' },
          body: JSON.stringify(attempt.body),
        },
      );
      expect(response.status).toBe(attempt.status);
      expectErrorBody(response.json, attempt.status === 401 ? 401002 : 400004);
    }
  });
});
