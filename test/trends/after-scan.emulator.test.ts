// The refresh after a real scan run (the audit timer's order): runAuditScan against the DPS emulator, then
// refreshTrends with its scanId; the problems opened match the scan's own count of new problems, by status and
// error code, and the same refresh again changes nothing.
import { runAuditScan } from '../../src/audit/scan/run-audit';
import { utcDay } from '../../src/trends/days';
import { refreshTrends } from '../../src/trends/refresh';
import { readTrends } from '../../src/trends/view';
import { startAuditEnvironment, type AuditTestEnvironment } from '../audit/support/environment';
import { newPrefix, sourcesOn } from './support/month';

const GROUP = 'trend-group';

let env: AuditTestEnvironment;

beforeAll(async () => {
  env = await startAuditEnvironment();
  env.emulator.createEnrollmentGroup({
    enrollmentGroupId: GROUP,
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'hashed',
  });
  env.emulator.seed({
    groupIds: [GROUP],
    perGroup: { assigned: 3, failed: 5, unassigned: 2, disabled: 1 },
    seed: 11,
  });
});

afterAll(async () => {
  await env?.stop();
});

const sumOf = (maps: Record<string, number>[]) => {
  const total: Record<string, number> = {};
  for (const map of maps) for (const [key, n] of Object.entries(map)) total[key] = (total[key] ?? 0) + n;
  return total;
};

it('counts the problems a scan found as opened on their days, and a second refresh writes nothing', async () => {
  const prefix = newPrefix();
  const settings = {
    DPS_CONNECTION_STRING: env.emulator.readOnlyConnectionString,
    DPS_CA_CERTIFICATE_PATH: env.emulator.caCertificatePath,
    AUDIT_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
    AUDIT_TABLE_PREFIX: prefix,
  };
  const warnings: string[] = [];
  const log = (level: 'info' | 'warn', message: string) => {
    if (level === 'warn') warnings.push(message);
  };
  const run = await runAuditScan({ env: settings, log });
  expect(run).toMatchObject({ outcome: 'completed', problemsFound: 8 });

  const refreshed = await refreshTrends({ env: settings, scanId: run.scanId, log });
  expect(warnings).toEqual([]);
  expect(refreshed.problems?.rowsWritten).toBe(30);

  const view = await readTrends(sourcesOn(env.azurite, prefix).trends, 30);
  const opened = view.problems.map((day) => day.opened);
  expect(opened.reduce((n, day) => n + day.total, 0)).toBe(run.problemsFound);
  expect(sumOf(opened.map((day) => day.byStatus))).toEqual(JSON.parse(run.problemsFoundByStatus!));
  expect(sumOf(opened.map((day) => day.byErrorCode))).toEqual(JSON.parse(run.problemsFoundByErrorCode!));
  expect(sumOf(opened.map((day) => day.byEnrollment))).toEqual({ [GROUP]: run.problemsFound });
  // Each opening is on the UTC day DPS last updated the registration (today, unless the seeding crossed midnight).
  const byDay: Record<string, number> = {};
  for (const record of env.emulator.store.snapshot().registrations) {
    if (['failed', 'unassigned', 'disabled'].includes(record.status)) {
      const day = utcDay(new Date(record.updatedMs));
      byDay[day] = (byDay[day] ?? 0) + 1;
    }
  }
  expect(
    Object.fromEntries(view.problems.filter((d) => d.opened.total > 0).map((d) => [d.day, d.opened.total])),
  ).toEqual(byDay);

  const again = await refreshTrends({ env: settings, scanId: run.scanId, log });
  expect(again).toMatchObject({ problems: { rowsWritten: 0 }, allocations: { rowsWritten: 0 } });
});
