import { inspect } from 'node:util';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { DPS_ENTRA_SCOPE } from '../../src/dps/auth';
import { DpsClient } from '../../src/dps/client';
import {
  DpsError,
  DpsNotFoundError,
  DpsPreconditionFailedError,
  DpsUnauthorizedError,
  DpsValidationError,
} from '../../src/dps/errors';
import { encodeUriComponentStrict, parseSasToken, verifySasToken } from '../../src/dps/sas';
import { POLICY_KEY, POLICY_NAME, connectionStringFor, sasClientFor } from './support/clients';
import { FakeClock } from './support/fake-clock';
import { sendJson, startTestHttpsServer, type TestHttpsServer } from './support/test-https-server';

const group = {
  enrollmentGroupId: 'grp-1',
  attestation: {
    type: 'symmetricKey',
    symmetricKey: { primaryKey: 'cHJpbWFyeQ==', secondaryKey: 'c2Vjb25kYXJ5' },
  },
  allocationPolicy: 'custom',
  customAllocationDefinition: {
    webhookUrl: 'https://fn.example.net/api/allocate?code=WEBHOOK-FUNCTION-KEY',
    apiVersion: '2021-10-01',
  },
  etag: '"e1"',
};

let server: TestHttpsServer;
const clients: DpsClient[] = [];

function track<T extends { client: DpsClient }>(created: T): T {
  clients.push(created.client);
  return created;
}

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

describe('SAS authentication', () => {
  it('sends a well-formed SAS token whose sr is the host as given, lower-cased and URL-encoded', async () => {
    const { client, clock } = track(sasClientFor(server));
    server.handler = (_req, res) => sendJson(res, 200, group);

    const result = await client.getEnrollmentGroup('grp-1');

    expect(result.enrollmentGroupId).toBe('grp-1');
    const [request] = server.requests;
    expect(request?.method).toBe('GET');
    expect(request?.path).toBe('/enrollmentGroups/grp-1');
    expect(request?.query.get('api-version')).toBe('2021-10-01');
    const token = parseSasToken(request?.headers.authorization);
    expect(token).toBeDefined();
    expect(token!.rawResource).toBe(encodeUriComponentStrict(server.hostName));
    expect(token!.keyName).toBe(POLICY_NAME);
    expect(token!.expiry).toBe(Math.floor(clock.now() / 1000) + 3600);
    const nowSeconds = Math.floor(clock.now() / 1000);
    expect(verifySasToken(token!, server.hostName, [POLICY_KEY], nowSeconds)).toEqual({ ok: true });
  });

  it('reuses the token, then makes a new one before it expires', async () => {
    const { client, clock } = track(sasClientFor(server));
    server.handler = (_req, res) => sendJson(res, 200, group);

    await client.getEnrollmentGroup('grp-1');
    clock.advance(10 * 60_000);
    await client.getEnrollmentGroup('grp-1');
    clock.advance(46 * 60_000); // 56 min after the first token: inside the renewal margin
    await client.getEnrollmentGroup('grp-1');

    const expiries = server.requests.map((r) => parseSasToken(r.headers.authorization)!.expiry);
    expect(expiries[0]).toBe(expiries[1]);
    expect(expiries[2]).toBeGreaterThan(expiries[0]!);
    expect(expiries[2]).toBe(Math.floor(clock.now() / 1000) + 3600);
  });
});

describe('Microsoft Entra ID authentication', () => {
  function fakeCredential(clock: FakeClock): TokenCredential & { calls: string[][] } {
    const calls: string[][] = [];
    let issued = 0;
    return {
      calls,
      getToken: async (scopes: string | string[]): Promise<AccessToken> => {
        calls.push(Array.isArray(scopes) ? scopes : [scopes]);
        issued++;
        return { token: `fake-token-${issued}`, expiresOnTimestamp: clock.now() + 3600_000 };
      },
    };
  }

  it('sends the credential token as a Bearer header and caches it until shortly before expiry', async () => {
    const clock = new FakeClock();
    const credential = fakeCredential(clock);
    const client = new DpsClient({ hostName: server.hostName, credential, caCertificate: server.ca, clock });
    clients.push(client);
    server.handler = (_req, res) => sendJson(res, 200, group);

    await client.getEnrollmentGroup('grp-1');
    await client.getEnrollmentGroup('grp-1');
    clock.advance(59 * 60_000);
    await client.getEnrollmentGroup('grp-1');

    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer fake-token-1',
      'Bearer fake-token-1',
      'Bearer fake-token-2',
    ]);
    expect(credential.calls).toEqual([[DPS_ENTRA_SCOPE], [DPS_ENTRA_SCOPE]]);
  });

  it('reports a credential failure as DpsUnauthorizedError without sending anything', async () => {
    const credential: TokenCredential = {
      getToken: async () => {
        throw new Error('no managed identity here');
      },
    };
    const client = new DpsClient({ hostName: server.hostName, credential, caCertificate: server.ca });
    clients.push(client);

    const error = await client.getEnrollmentGroup('grp-1').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DpsUnauthorizedError);
    expect((error as DpsError).message).toContain('no managed identity here');
    expect(server.requests).toHaveLength(0);
  });
});

describe('operations', () => {
  it('reuses keep-alive connections across sequential calls', async () => {
    const { client } = track(sasClientFor(server));
    server.handler = (_req, res) => sendJson(res, 200, group);
    const before = server.connections;

    for (let i = 0; i < 10; i++) await client.getEnrollmentGroup('grp-1');

    expect(server.requests).toHaveLength(10);
    // The pool may open a second socket while the first one is still finishing a response; never one per call.
    expect(server.connections - before).toBeLessThanOrEqual(2);
  });

  it('URI-encodes path ids', async () => {
    const { client } = track(sasClientFor(server));
    server.handler = (_req, res) => sendJson(res, 200, { registrationId: 'a/b c', status: 'assigned' });

    await client.getRegistrationState('a/b c');

    expect(server.requests[0]?.path).toBe('/registrations/a%2Fb%20c');
  });

  it('rejects an empty id before sending anything', async () => {
    const { client } = track(sasClientFor(server));
    await expect(client.getIndividualEnrollment('')).rejects.toThrow(DpsError);
    expect(server.requests).toHaveLength(0);
  });

  it('puts an enrollment group with If-Match from its etag and returns the stored group', async () => {
    const { client } = track(sasClientFor(server));
    server.handler = (req, res) =>
      sendJson(res, 200, { ...JSON.parse(req.body), etag: '"e2"', futureField: 1 });

    const stored = await client.createOrUpdateEnrollmentGroup(
      group as Parameters<DpsClient['createOrUpdateEnrollmentGroup']>[0],
    );

    const [request] = server.requests;
    expect(request?.method).toBe('PUT');
    expect(request?.path).toBe('/enrollmentGroups/grp-1');
    expect(request?.headers['if-match']).toBe('"e1"');
    expect(request?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(request!.body)).toEqual(group);
    expect(stored.etag).toBe('"e2"');
    expect((stored as Record<string, unknown>).futureField).toBe(1); // unknown fields are kept
  });

  it('puts an individual enrollment without If-Match when it has no etag', async () => {
    const { client } = track(sasClientFor(server));
    const enrollment = { registrationId: 'dev-1', attestation: { type: 'symmetricKey' as const } };
    server.handler = (req, res) => sendJson(res, 200, JSON.parse(req.body));

    await client.createOrUpdateIndividualEnrollment(enrollment);

    expect(server.requests[0]?.path).toBe('/enrollments/dev-1');
    expect(server.requests[0]?.headers['if-match']).toBeUndefined();
  });

  it.each([
    ['deleteEnrollmentGroup', '/enrollmentGroups/g-1'],
    ['deleteIndividualEnrollment', '/enrollments/g-1'],
    ['deleteRegistrationState', '/registrations/g-1'],
  ] as const)('%s sends DELETE %s with If-Match when given', async (method, path) => {
    const { client } = track(sasClientFor(server));
    server.handler = (_req, res) => {
      res.writeHead(204);
      res.end();
    };

    await expect(client[method]('g-1', { ifMatch: '"x"' })).resolves.toBeUndefined();

    expect(server.requests[0]).toMatchObject({ method: 'DELETE', path });
    expect(server.requests[0]?.headers['if-match']).toBe('"x"');
    expect(server.requests[0]?.query.get('api-version')).toBe('2021-10-01');
  });
});

describe('errors', () => {
  it.each([
    [400, DpsError, { errorCode: 400004, trackingId: 't-400', message: 'bad' }],
    [401, DpsUnauthorizedError, { errorCode: 401002, trackingId: 't-401', message: 'unauthorized' }],
    [404, DpsNotFoundError, { errorCode: 404204, trackingId: 't-404', message: 'not found' }],
    [412, DpsPreconditionFailedError, { code: 412002, trackingId: 't-412', message: 'etag mismatch' }],
  ])(
    'HTTP %i becomes its typed error, is not retried, and carries code and trackingId',
    async (status, type, body) => {
      const { client } = track(sasClientFor(server));
      server.handler = (_req, res) => sendJson(res, status, body);

      const error = (await client.getEnrollmentGroup('grp-1').catch((e: unknown) => e)) as DpsError;

      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({
        status,
        operation: 'getEnrollmentGroup',
        errorCode: 'errorCode' in body ? body.errorCode : body.code,
        trackingId: body.trackingId,
        retryable: false,
        attempts: 1,
      });
      expect(error.message).toContain(body.message);
      expect(server.requests).toHaveLength(1);
    },
  );

  it('takes the error code from x-ms-error-code when the body has none', async () => {
    const { client } = track(sasClientFor(server));
    server.handler = (_req, res) => {
      res.writeHead(404, { 'x-ms-error-code': '404203' });
      res.end('not json');
    };

    const error = (await client.getRegistrationState('dev-9').catch((e: unknown) => e)) as DpsError;

    expect(error).toBeInstanceOf(DpsNotFoundError);
    expect(error.errorCode).toBe(404203);
  });

  it('rejects a 2xx body that does not match the schema with DpsValidationError, without retrying', async () => {
    const { client } = track(sasClientFor(server));
    server.handler = (_req, res) =>
      sendJson(res, 200, { enrollmentGroupId: 5, attestation: { type: 'magic' } });

    const error = (await client.getEnrollmentGroup('grp-1').catch((e: unknown) => e)) as DpsError;

    expect(error).toBeInstanceOf(DpsValidationError);
    expect(error.message).toContain('enrollmentGroupId');
    expect(server.requests).toHaveLength(1);
  });

  it('fails without retrying when the server certificate is not trusted', async () => {
    const { client } = track(sasClientFor(server, { caCertificate: undefined }));

    const error = (await client.getEnrollmentGroup('grp-1').catch((e: unknown) => e)) as DpsError;

    expect(error).toBeInstanceOf(DpsError);
    expect(error.retryable).toBe(false);
    expect(error.attempts).toBe(1);
    expect(server.requests).toHaveLength(0);
  });
});

describe('secrets', () => {
  it('never puts the policy key, the signature or a webhook code into errors or log lines', async () => {
    const { client, logs } = track(sasClientFor(server, { retry: { maxAttempts: 2 } }));
    const echo =
      'bad group: webhookUrl https://fn.example.net/api/allocate?code=WEBHOOK-FUNCTION-KEY ' +
      `SharedAccessKey=${POLICY_KEY} "primaryKey": "cHJpbWFyeQ=="`;
    server.handler = (req, res) =>
      sendJson(res, 503, { errorCode: 503000, message: `${echo} ${req.headers.authorization}` });

    const error = (await client.getEnrollmentGroup('grp-1').catch((e: unknown) => e)) as DpsError;

    const signature = parseSasToken(server.requests[0]?.headers.authorization)!.signature;
    const surfaces = [error.message, inspect(error, { depth: 5 }), ...logs.map((l) => l.message)];
    expect(logs.some((l) => l.level === 'warn')).toBe(true);
    for (const text of surfaces) {
      expect(text).not.toContain(POLICY_KEY);
      expect(text).not.toContain(signature);
      expect(text).not.toContain(encodeURIComponent(signature));
      expect(text).not.toContain('WEBHOOK-FUNCTION-KEY');
      expect(text).not.toContain('cHJpbWFyeQ==');
    }
    expect(error.message).toContain('bad group');
  });

  it('does not echo a malformed connection string', () => {
    expect(() => new DpsClient({ connectionString: `HostName=h;SharedAccessKey=${POLICY_KEY}` })).toThrow(
      /missing SharedAccessKeyName/,
    );
    try {
      new DpsClient({ connectionString: `HostName=h/x;SharedAccessKeyName=n;SharedAccessKey=${POLICY_KEY}` });
      throw new Error('expected a failure');
    } catch (error) {
      expect((error as Error).message).toMatch(/host name/);
      expect((error as Error).message).not.toContain(POLICY_KEY);
    }
  });

  it('needs a connection string or a host name', () => {
    expect(() => new DpsClient({})).toThrow(/connectionString.*hostName/);
  });

  it('accepts localhost with a port as the host name', () => {
    const client = new DpsClient({ connectionString: connectionStringFor('localhost:8443') });
    clients.push(client);
    expect(client.hostName).toBe('localhost:8443');
  });
});
