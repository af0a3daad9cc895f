import { HttpRequest, InvocationContext } from '@azure/functions';
import { officialSample } from '../allocation/dps-bodies';
import '../../src/functions/allocate';
import { registeredFunction, triggerOf } from '../support/registered-functions';

jest.mock(
  '@azure/functions-core',
  () => jest.requireActual('../../dev/functions-host/core-stub').functionsCoreStub,
  {
    virtual: true,
  },
);

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
