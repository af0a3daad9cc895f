import { InvocationContext } from '@azure/functions';
import '../../src/functions/audit';

interface Registration {
  metadata: { name: string; bindings: Record<string, Record<string, unknown>> };
  handler: (timer: unknown, context: InvocationContext) => Promise<unknown>;
}

// Stands in for the Functions host so the real app.timer registration can be inspected and called.
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

function audit(): Registration {
  const { registered } = jest.requireMock<{ registered: Registration[] }>('@azure/functions-core');
  const found = registered.find((r) => r.metadata.name === 'audit');
  if (!found) throw new Error('audit was not registered');
  return found;
}

it('registers a timer on AUDIT_SCHEDULE (every 5 minutes by default) that does not run on startup', () => {
  const trigger = Object.values(audit().metadata.bindings).find((b) => b.type === 'timerTrigger');
  expect(trigger).toMatchObject({ schedule: '0 */5 * * * *', runOnStartup: false });
});

it('fails the invocation with a clear message when the audit cannot run', async () => {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) {
    if (/^(AzureWebJobsStorage|AUDIT_|DPS_)/.test(name)) delete process.env[name];
  }
  try {
    const context = new InvocationContext({ functionName: 'audit' });
    await expect(audit().handler({}, context)).rejects.toThrow(/AUDIT_STORAGE_CONNECTION_STRING/);
  } finally {
    process.env = saved;
  }
});
