// Child process of the audit benchmark: this project's audit scan (runScan with DpsClient and AuditStore), as the
// timer function runs it (src/audit/run-audit.ts: one store per process, a DpsClient per invocation), with the
// benchmark's settings from the request (see bench/audit.ts for the budgets and why).
import { runScan } from '../../src/audit/scan/scan';
import { AuditStore } from '../../src/audit/store';
import { DpsClient } from '../../src/dps/client';
import { AUDIT_BENCH_SETTINGS, serveScans, type ScanCounts, type ScanRequest } from './scanner-protocol';

const stores = new Map<string, AuditStore>();

function storeFor(request: ScanRequest): AuditStore {
  const key = `${request.storageConnectionString}\n${request.tablePrefix}`;
  let store = stores.get(key);
  if (!store) {
    store = new AuditStore({
      connection: { kind: 'connectionString', connectionString: request.storageConnectionString },
      tablePrefix: request.tablePrefix,
    });
    stores.set(key, store);
  }
  return store;
}

async function scan(request: ScanRequest): Promise<ScanCounts> {
  const dps = new DpsClient({
    connectionString: request.dps.serviceConnectionString,
    caCertificate: request.dps.caCertificatePem,
    operationsPerMinute: AUDIT_BENCH_SETTINGS.operationsPerMinute,
    pageSize: request.pageSize,
  });
  try {
    const row = await runScan(
      { dps, store: storeFor(request) },
      {
        timeBudgetMs: AUDIT_BENCH_SETTINGS.timeBudgetMs,
        maxOperationsPerRun: AUDIT_BENCH_SETTINGS.maxOperationsPerRun,
        pageSize: request.pageSize,
        assigningGraceMinutes: request.assigningGraceMinutes,
        lastSeenRefreshHours: AUDIT_BENCH_SETTINGS.lastSeenRefreshHours,
      },
    );
    if (row.outcome !== 'completed') throw new Error(`the scan run ended ${row.outcome}: ${row.detail}`);
    return {
      registrations: row.registrationsRead,
      problems: row.problemsSeen,
      entitiesWritten: row.entitiesWritten,
      dpsOperations: row.dpsOperations,
      detail:
        `run row: ${row.enrollmentGroupsRead} groups, ${row.problemsFound} problems found, ` +
        `${row.dpsRetries} DPS retries, ${row.throttled429} 429s`,
    };
  } finally {
    await dps.close();
  }
}

serveScans(scan);
