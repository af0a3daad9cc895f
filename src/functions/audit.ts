// DPS registration audit: records failed, unassigned, disabled and stuck registrations in the audit tables,
// on AUDIT_SCHEDULE (default every 5 minutes). A scan too large for one run resumes on the next. Each run logs
// one `audit-scan-run` line of counts, which the Azure Monitor alerts read (docs/alerts.md).
// Then the daily trends roll-up is brought up to date (src/trends/refresh.ts).
import { app } from '@azure/functions';
import { runAuditScan } from '../audit/scan/run-audit';
import { logScanRun } from '../audit/scan/run-log-line';
import { readSettings } from '../settings';
import { refreshTrends } from '../trends/refresh';

app.timer('audit', {
  schedule: readSettings().AUDIT_SCHEDULE,
  runOnStartup: false,
  handler: async (_timer, context) => {
    const log = (level: 'info' | 'warn', message: string) =>
      level === 'warn' ? context.warn(message) : context.log(message);
    const run = await logScanRun(context, () => runAuditScan({ log }));
    await refreshTrends({ scanId: run.scanId, log }); // never throws: a fault is logged, the next run recomputes
  },
});
