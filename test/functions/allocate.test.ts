// The allocate function file: its registration, its answer and log line, and that it answers without storage
// (the decision log says once that it is off). Decision rows themselves: test/decisions.
import { HttpRequest, InvocationContext } from '@azure/functions';
import { officialSample } from '../../dev/fixtures/dps-requests';
import { registeredFunction, stopRegisteredApp, triggerOf } from '../support/registered-functions';

const STORAGE_SETTINGS = ['AUDIT_STORAGE_CONNECTION_STRING', 'AzureWebJobsStorage', 'DECISION_LOG_ENABLED'];
const saved = Object.fromEntries(STORAGE_SETTINGS.map((name) => [name, process.env[name]]));
const notices: string[] = [];

beforeAll(() => {
  // No storage: the function must answer all the same.
  for (const name of STORAGE_SETTINGS) delete process.env[name];
  jest.spyOn(console, 'info').mockImplementation((message?: unknown) => notices.push(String(message)));
  jest.requireActual('../../src/functions/allocate'); // after the settings above: it reads them on load
});

afterAll(async () => {
  await stopRegisteredApp();
  jest.restoreAllMocks();
  for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
});

const allocate = () =>
  registeredFunction('allocate') as unknown as {
    handler: (request: HttpRequest, context: InvocationContext) => Promise<unknown>;
  };

it('registers POST /api/allocate with function-level authorization', () => {
  const trigger = triggerOf('allocate');
  expect(trigger).toMatchObject({ route: 'allocate', methods: ['POST'], authLevel: 'function' });
});

it('answers a DPS request and logs one structured line', async () => {
  const logs: unknown[][] = [];
  const context = new InvocationContext({
    functionName: 'allocate',
    logHandler: (_level, ...args) => logs.push(args),
  });
  const request = new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1:7071/api/allocate',
    body: { string: JSON.stringify(officialSample) },
  });
  const response = await allocate().handler(request, context);
  expect(response).toMatchObject({
    status: 200,
    jsonBody: { iotHubHostName: 'custom-allocation-toasters-hub.azure-devices.net' },
  });
  expect(logs).toHaveLength(1);
  expect(JSON.parse(String(logs[0]![0]))).toMatchObject({
    event: 'allocation',
    outcome: 'assigned',
    rule: 'toasters',
  });
});

it('answers a broken body with a 400 and logs a warning', async () => {
  const levels: string[] = [];
  const context = new InvocationContext({
    functionName: 'allocate',
    logHandler: (level) => levels.push(level),
  });
  const request = new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1:7071/api/allocate',
    body: { string: '[' },
  });
  const response = (await allocate().handler(request, context)) as {
    status: number;
    jsonBody: { error: string };
  };
  expect(response.status).toBe(400);
  expect(response.jsonBody.error).toMatch(/not valid JSON/);
  expect(levels).toEqual(['warning']);
});

it('answers without storage, and says once that the decision log is off', async () => {
  const context = new InvocationContext({ functionName: 'allocate', logHandler: () => undefined });
  for (let i = 0; i < 2; i++) {
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://127.0.0.1:7071/api/allocate',
      body: { string: JSON.stringify(officialSample) },
    });
    expect(await allocate().handler(request, context)).toMatchObject({ status: 200 });
  }
  expect(notices).toEqual([expect.stringMatching(/^Decision log off: no storage account is configured/)]);
});
