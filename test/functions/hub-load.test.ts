// The hub-load function files: a timer on HUB_LOAD_SCHEDULE (every minute by default) that does nothing without
// HUB_LOAD_HUBS, and GET /api/hubs with function-level authorization.
import { InvocationContext } from '@azure/functions';
import '../../src/functions/hub-load';
import '../../src/functions/audit-hubs';
import { registeredFunction, stopRegisteredApp, triggerOf } from '../support/registered-functions';

afterAll(stopRegisteredApp);

it('registers a timer on HUB_LOAD_SCHEDULE, every minute by default, not run on startup', () => {
  expect(triggerOf('hubLoad')).toMatchObject({ schedule: '0 */1 * * * *', runOnStartup: false });
});

it('does nothing and logs nothing without HUB_LOAD_HUBS', async () => {
  const lines: unknown[] = [];
  const context = new InvocationContext({
    functionName: 'hubLoad',
    logHandler: (...args) => lines.push(args),
  });
  const handler = registeredFunction('hubLoad') as unknown as {
    handler: (timer: unknown, context: InvocationContext) => Promise<unknown>;
  };
  await expect(handler.handler({}, context)).resolves.toBeUndefined();
  expect(lines).toEqual([]);
});

it('registers GET /api/hubs with function-level authorization', () => {
  expect(triggerOf('auditHubs')).toMatchObject({ route: 'hubs', methods: ['GET'], authLevel: 'function' });
});
