import { HttpRequest, InvocationContext } from '@azure/functions';
import { officialSample } from '../allocation/dps-bodies';
import '../../src/functions/allocate';

interface Registration {
  metadata: { name: string; bindings: Record<string, Record<string, unknown>> };
  handler: (request: HttpRequest, context: InvocationContext) => Promise<unknown>;
}

// Stands in for the Functions host so the real app.http registration can be inspected and called.
jest.mock(
  '@azure/functions-core',
  () => {
    const registered: unknown[] = [];
    return {
      registered,
      setProgrammingModel: jest.fn(),
      getProgrammingModel: jest.fn(),
      log: jest.fn(),
      registerHook: jest.fn(() => ({ dispose: jest.fn() })),
      registerFunction: (metadata: Registration['metadata'], handler: Registration['handler']) => {
        registered.push({ metadata, handler });
        return { dispose: jest.fn() };
      },
    };
  },
  { virtual: true },
);

function allocate(): Registration {
  const { registered } = jest.requireMock<{ registered: Registration[] }>('@azure/functions-core');
  const found = registered.find((r) => r.metadata.name === 'allocate');
  if (!found) throw new Error('allocate was not registered');
  return found;
}

it('registers POST /api/allocate with function-level authorization', () => {
  const trigger = Object.values(allocate().metadata.bindings).find((b) => b.type === 'httpTrigger');
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
