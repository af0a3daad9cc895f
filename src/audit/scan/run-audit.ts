// Builds the DPS client and the table store from the app settings and runs one scan invocation: what the audit
// timer calls (and a CLI `scan` can). Audit-only requirements are checked here, naming the missing setting.
import { readFileSync } from 'node:fs';
import { DpsClient, type DpsClientOptions } from '../../dps/client';
import { DeviceOperationsArchive } from '../../dps/resource-logs/device-operations-archive';
import { createBlobContainerClient } from '../../storage/blob-container';
import { storageConnectionFrom } from '../../storage/connection';
import { readSettings, type Settings, ConfigurationError } from '../../settings';
import type { ScanRunRow } from '../rows/tables';
import { auditStoreFor } from '../store';
import type { AttestationLogSource } from './attestation-log-pass';
import { runScan, type ScanOptions } from './scan';
import { eventPublisherFromSettings } from '../../events/from-settings';

export type AuditLog = (level: 'info' | 'warn', message: string) => void;

/** How long a run waits at its end for its events to be sent. */
const EVENTS_FLUSH_MS = 3_000;

/** The DPS client the audit uses: SAS with DPS_CONNECTION_STRING, else Entra ID with DPS_HOST_NAME. */
export function createAuditDpsClient(settings: Settings, log?: AuditLog): DpsClient {
  const options: DpsClientOptions = {
    operationsPerMinute: settings.AUDIT_DPS_OPERATIONS_PER_MINUTE,
    pageSize: settings.AUDIT_PAGE_SIZE,
    logger: log && ((level, message) => level === 'warn' && log('warn', message)),
  };
  if (settings.DPS_CONNECTION_STRING) options.connectionString = settings.DPS_CONNECTION_STRING;
  else if (settings.DPS_HOST_NAME) options.hostName = settings.DPS_HOST_NAME;
  else {
    throw new ConfigurationError(
      'The audit needs DPS access: set DPS_CONNECTION_STRING (SAS) or DPS_HOST_NAME (managed identity).',
    );
  }
  if (settings.DPS_CA_CERTIFICATE_PATH) {
    try {
      options.caCertificate = readFileSync(settings.DPS_CA_CERTIFICATE_PATH);
    } catch (error) {
      throw new ConfigurationError(
        `DPS_CA_CERTIFICATE_PATH: cannot read ${settings.DPS_CA_CERTIFICATE_PATH} (${(error as Error).message})`,
      );
    }
  }
  return new DpsClient(options);
}

/**
 * DPS's DeviceOperations logs archived to the audit's storage account (AUDIT_DPS_LOGS_CONTAINER), or undefined
 * when the setting is empty.
 */
export function attestationLogSource(
  settings: Settings,
  env: NodeJS.ProcessEnv,
): AttestationLogSource | undefined {
  const containerName = settings.AUDIT_DPS_LOGS_CONTAINER;
  if (!containerName) return undefined;
  const connection = storageConnectionFrom(settings.AUDIT_STORAGE_CONNECTION_STRING, env);
  return {
    archive: new DeviceOperationsArchive(
      createBlobContainerClient(connection, containerName, env),
      settings.AUDIT_DPS_LOGS_PREFIX,
    ),
    lookbackHours: settings.AUDIT_DPS_LOGS_LOOKBACK_HOURS,
  };
}

/** This app's allocate URL: AUDIT_EXPECTED_WEBHOOK_URL, else derived from WEBSITE_HOSTNAME (set by Azure). */
export function expectedWebhookUrl(settings: Settings, env: NodeJS.ProcessEnv): string | undefined {
  if (settings.AUDIT_EXPECTED_WEBHOOK_URL) return settings.AUDIT_EXPECTED_WEBHOOK_URL;
  const host = env.WEBSITE_HOSTNAME?.trim();
  return host ? `https://${host}/api/allocate` : undefined;
}

export function scanOptionsFrom(settings: Settings, env: NodeJS.ProcessEnv, log?: AuditLog): ScanOptions {
  return {
    timeBudgetMs: settings.AUDIT_TIME_BUDGET_SECONDS * 1000,
    maxOperationsPerRun: settings.AUDIT_MAX_OPERATIONS_PER_RUN,
    pageSize: settings.AUDIT_PAGE_SIZE,
    assigningGraceMinutes: settings.AUDIT_ASSIGNING_GRACE_MINUTES,
    lastSeenRefreshHours: settings.AUDIT_LAST_SEEN_REFRESH_HOURS,
    expectedWebhookUrl: expectedWebhookUrl(settings, env),
    certificateExpiryWarningDays: settings.AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS,
    log,
  };
}

/** One scan invocation with the app settings of `env`. */
export async function runAuditScan(
  options: { env?: NodeJS.ProcessEnv; log?: AuditLog } = {},
): Promise<ScanRunRow> {
  const env = options.env ?? process.env;
  const settings = readSettings(env);
  const store = auditStoreFor(settings, env);
  const dps = createAuditDpsClient(settings, options.log);
  const log = options.log;
  // Memoised per process: events a topic outage left queued go with the next invocation in this worker.
  const events = eventPublisherFromSettings(
    settings,
    env,
    log ? { info: (m) => log('info', m), warn: (m) => log('warn', m) } : undefined,
  );
  try {
    const attestationLog = attestationLogSource(settings, env);
    return await runScan(
      { dps, store, attestationLog },
      { ...scanOptionsFrom(settings, env, options.log), events },
    );
  } finally {
    await dps.close();
    // A short wait for the events to leave; never fails the run, what is left stays queued (docs/events.md).
    await events.flush(EVENTS_FLUSH_MS);
  }
}
