// `configure --dps-host` (Microsoft Entra ID) against a fake DPS on 127.0.0.1 (the emulator speaks SAS only):
// bearer tokens for the DPS scope, the retry while a freshly assigned role propagates, and the exact PUT.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sendJson, startTestHttpsServer, type TestHttpsServer } from '../../dps/support/test-https-server';
import { fakeCredential } from './support/fake-arm';
import { runCli } from './support/run-cli';

const GROUP_PATH = '/enrollmentGroups/entra-group';
const KEYS = {
  primaryKey: Buffer.alloc(64, 3).toString('base64'),
  secondaryKey: Buffer.alloc(64, 4).toString('base64'),
};
const FUNCTION_KEY = 'entra-test-function-key-42';
const GROUP = {
  enrollmentGroupId: 'entra-group',
  attestation: { type: 'symmetricKey' },
  capabilities: { iotEdge: false },
  iotHubs: ['hub-1.azure-devices.net'],
  initialTwin: { tags: { a: 1 } },
  provisioningStatus: 'enabled',
  reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
  allocationPolicy: 'geoLatency',
  etag: '"etag-7"',
  createdDateTimeUtc: '2026-01-01T00:00:00Z',
  lastUpdatedDateTimeUtc: '2026-01-02T00:00:00Z',
};

let server: TestHttpsServer;
let caDir: string;
let caPath: string;

beforeAll(async () => {
  server = await startTestHttpsServer();
  caDir = await mkdtemp(path.join(os.tmpdir(), 'configure-entra-'));
  caPath = path.join(caDir, 'ca.pem');
  await writeFile(caPath, server.ca);
});

afterAll(async () => {
  await server.close();
  await rm(caDir, { recursive: true, force: true });
});

beforeEach(() => {
  server.requests.length = 0;
});

it('uses Entra tokens for DPS, waits out a 401 while the role propagates, and PUTs the group with If-Match', async () => {
  server.handler = (request, response) => {
    if (server.requests.length === 1) {
      sendJson(response, 401, { errorCode: 401002, message: 'principal has no role yet' });
    } else if (request.method === 'GET' && request.path === GROUP_PATH) {
      sendJson(response, 200, GROUP);
    } else if (request.method === 'POST' && request.path === `${GROUP_PATH}/attestationmechanism`) {
      sendJson(response, 200, { type: 'symmetricKey', symmetricKey: KEYS });
    } else if (request.method === 'PUT' && request.path === GROUP_PATH) {
      sendJson(response, 200, { ...JSON.parse(request.body), etag: '"etag-8"' });
    } else {
      sendJson(response, 404, { errorCode: 404000, message: 'no route' });
    }
  };
  const credential = fakeCredential();

  const run = await runCli(
    [
      '--dps-host',
      server.hostName,
      '--enrollment-group',
      'entra-group',
      '--webhook-url',
      'https://app.azurewebsites.net/api/allocate',
    ],
    {
      env: { DPS_CA_CERTIFICATE_PATH: caPath, ALLOCATE_FUNCTION_KEY: FUNCTION_KEY },
      deps: { credential, dpsAuthRetryDelaysMs: [0], sleep: async () => undefined },
    },
  );

  expect(run.code).toBe(0);
  expect(run.stderr).toContain(
    'note: DPS refused access (a role assigned moments ago can take a while to apply)',
  );
  expect(run.stdout).toBe(
    "enrollment group 'entra-group': updated: apiVersion 2021-10-01, webhook https://app.azurewebsites.net/api/allocate?code=***\n",
  );
  expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
    `GET ${GROUP_PATH}`,
    `GET ${GROUP_PATH}`,
    `POST ${GROUP_PATH}/attestationmechanism`,
    `PUT ${GROUP_PATH}`,
  ]);
  for (const request of server.requests) {
    expect(request.headers.authorization).toBe(
      'Bearer token-for:https://azure-devices-provisioning.net/.default',
    );
    expect(request.query.get('api-version')).toBe('2021-10-01');
  }
  expect(
    credential.scopes.every((scope) => scope === 'https://azure-devices-provisioning.net/.default'),
  ).toBe(true);

  const put = server.requests[3]!;
  expect(put.headers['if-match']).toBe('"etag-7"');
  const { createdDateTimeUtc: _c, lastUpdatedDateTimeUtc: _l, ...kept } = GROUP;
  expect(JSON.parse(put.body)).toEqual({
    ...kept,
    attestation: { type: 'symmetricKey', symmetricKey: KEYS },
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: `https://app.azurewebsites.net/api/allocate?code=${FUNCTION_KEY}`,
      apiVersion: '2021-10-01',
    },
  });
  expect(run.stdout + run.stderr).not.toContain(FUNCTION_KEY);
});

it('fails with a role hint once the 401 outlasts the retries', async () => {
  server.handler = (_request, response) =>
    sendJson(response, 401, { errorCode: 401002, message: 'Unauthorized' });

  const run = await runCli(
    [
      '--dps-host',
      server.hostName,
      '--ca-certificate',
      caPath,
      '--enrollment-group',
      'entra-group',
      '--webhook-url',
      `https://app.azurewebsites.net/api/allocate?code=${FUNCTION_KEY}`,
    ],
    { deps: { credential: fakeCredential(), dpsAuthRetryDelaysMs: [0, 0], sleep: async () => undefined } },
  );

  expect(run.code).toBe(1);
  expect(server.requests).toHaveLength(3);
  expect(run.stderr).toMatch(
    /enrollment group 'entra-group': failed: .*HTTP 401.*"Device Provisioning Service Data Contributor" role/,
  );
  expect(run.stdout + run.stderr).not.toContain(FUNCTION_KEY);
});
