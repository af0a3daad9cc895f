// DPS registration audit: records failed, unassigned, disabled and stuck registrations in the audit tables,
// on AUDIT_SCHEDULE (default every 5 minutes). A scan too large for one run resumes on the next.
import { app } from '@azure/functions';
import { runAuditScan } from '../audit/scan/run-audit';
import { readSettings } from '../settings';

app.timer('audit', {
  schedule: readSettings().AUDIT_SCHEDULE,
  runOnStartup: false,
  handler: async (_timer, context) => {
    const run = await runAuditScan({
      log: (level, message) => (level === 'warn' ? context.warn(message) : context.log(message)),
    });
    const { rowKey: _rowKey, partitionKey: _partitionKey, ...summary } = run;
    const line = JSON.stringify({ event: 'audit-run', ...summary });
    if (run.outcome !== 'failed') return context.log(line);
    context.error(line);
    throw new Error(`The audit run failed: ${run.detail ?? 'unknown error'}`);
  },
});
