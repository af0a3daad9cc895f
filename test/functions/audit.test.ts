import { InvocationContext } from '@azure/functions';
import '../../src/functions/audit';
import { registeredFunction, triggerOf } from '../support/registered-functions';

const audit = () =>
  registeredFunction('audit') as unknown as {
    handler: (timer: unknown, context: InvocationContext) => Promise<unknown>;
  };

it('registers a timer on AUDIT_SCHEDULE (every 5 minutes by default) that does not run on startup', () => {
  const trigger = triggerOf('audit');
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
