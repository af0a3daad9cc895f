// The audit timer function end to end: one invocation scans the DPS emulator into Azurite, then refreshes the
// roll-up, so GET /api/trends has today's new problems after the first run.
import { InvocationContext } from '@azure/functions';
import '../../src/functions/audit';
import { readTrends } from '../../src/trends/view';
import { startAuditEnvironment, type AuditTestEnvironment } from '../audit/support/environment';
import { registeredFunction } from '../support/registered-functions';
import { newPrefix, sourcesOn } from './support/month';

const GROUP = 'timer-group';
let env: AuditTestEnvironment;
const saved = { ...process.env };

beforeAll(async () => {
  env = await startAuditEnvironment();
  env.emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUP,
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'hashed',
  });
  env.emulator.seed({ groupIds: [GROUP], perGroup: { assigned: 2, failed: 3 }, seed: 5 });
});

afterAll(async () => {
  process.env = saved;
  await env?.stop();
});

it('refreshes the trends after the scan of the same invocation', async () => {
  const prefix = newPrefix();
  process.env = {
    ...saved,
    DPS_CONNECTION_STRING: env.emulator.readOnlyConnectionString,
    DPS_CA_CERTIFICATE_PATH: env.emulator.caCertificatePath,
    AUDIT_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
    AUDIT_TABLE_PREFIX: prefix,
  };
  const warnings: string[] = [];
  const context = new InvocationContext({
    functionName: 'audit',
    logHandler: (level, ...args) => {
      if (level === 'warning' || level === 'error') warnings.push(args.join(' '));
    },
  });
  const { handler } = registeredFunction('audit') as unknown as {
    handler: (timer: unknown, context: InvocationContext) => Promise<unknown>;
  };
  await handler({}, context);
  expect(warnings).toEqual([]);
  const view = await readTrends(sourcesOn(env.azurite, prefix).trends, 30);
  expect(view.problems.reduce((n, day) => n + day.opened.total, 0)).toBe(3);
  expect(view.updatedAt.problems).not.toBeNull();
});
