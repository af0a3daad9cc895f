// Devices DPS refused at attestation (an unknown CA, an expired certificate, a wrong key): DPS keeps no
// registration state for them, so the scan of registration states never sees them. DPS's DeviceOperations resource
// logs record every attestation attempt (docs/dps-contract.md §4.4); this pass reads the archived logs from where
// the last run stopped and keeps one problem row per refused device in the `~attestation` partition, resolved
// (`attested`) once a later attempt succeeds. Problems are written before the read position, so a run that dies
// in between reads the same lines again and writes nothing new.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import type { AttestationAttempt } from '../../dps/resource-logs/attestation-attempts';
import {
  initialPosition,
  type ArchivePosition,
  type ArchiveRead,
  type DeviceOperationsArchive,
} from '../../dps/resource-logs/device-operations-archive';
import { idKey } from '../../storage/keys';
import { ATTESTATION_PARTITION, INDIVIDUAL_PARTITION } from '../rows/keys';
import { storedErrorMessage, type Observation, type RowChange } from '../rows/problems';
import { ATTESTATION_LOG_ROW, problemRowSchema, STATE_PARTITION } from '../rows/tables';
import type { AuditStore, Row } from '../store';
import { REFUSED_AT_ATTESTATION } from './individual-observation';
import { mapLimit } from '../../concurrency/map-limit';
import { PartitionPass, writeChanges, type PassSettings, type ProblemCounters } from './partition-pass';

/** Bytes of logs one run reads at most; the next run goes on. */
const MAX_BYTES_PER_RUN = 16 * 1024 * 1024;

export interface AttestationLogSource {
  archive: DeviceOperationsArchive;
  /** How far back the first read starts (AUDIT_DPS_LOGS_LOOKBACK_HOURS). */
  lookbackHours: number;
}

export interface AttestationLogContext {
  source: AttestationLogSource;
  store: AuditStore;
  passSettings: PassSettings;
  counters: ProblemCounters;
  /** Throws once the run may no longer write (crash, lease lost). */
  assertWritable: () => void;
  /** Gets the problem changes once written (their lifecycle events). */
  publishProblems?: (changes: readonly RowChange[]) => void;
  signal: AbortSignal;
}

export interface AttestationLogResult {
  attempts: number;
  refusedDevices: number;
  blobsRead: number;
  malformedLines: number;
  truncated: boolean;
}

const positionRowSchema = z.object({
  sinceHour: z.date(),
  /** JSON of ArchivePosition.offsets. */
  offsets: z.string(),
});

async function loadPosition(
  store: AuditStore,
  nowMs: number,
  lookbackHours: number,
): Promise<ArchivePosition> {
  const filter = odata`PartitionKey eq ${STATE_PARTITION} and RowKey eq ${ATTESTATION_LOG_ROW}`;
  for await (const row of store.rows('state', positionRowSchema, filter)) {
    try {
      const offsets = z.record(z.string(), z.number().int().min(0)).parse(JSON.parse(row.offsets));
      return { sinceHourMs: row.sinceHour.getTime(), offsets };
    } catch {
      break; // edited by hand into something else: start again from the lookback
    }
  }
  return initialPosition(nowMs, lookbackHours);
}

function savePosition(store: AuditStore, position: ArchivePosition): Promise<void> {
  const row: Row & z.infer<typeof positionRowSchema> = {
    partitionKey: STATE_PARTITION,
    rowKey: ATTESTATION_LOG_ROW,
    sinceHour: new Date(position.sinceHourMs),
    offsets: JSON.stringify(position.offsets),
  };
  return store.upsert('state', [row]);
}

/** The newest attempt of each device, in the order devices were first seen. */
function latestAttempts(attempts: readonly AttestationAttempt[]): AttestationAttempt[] {
  const latest = new Map<string, AttestationAttempt>();
  for (const attempt of attempts) {
    const key = attempt.registrationId.toLowerCase();
    const known = latest.get(key);
    if (!known || attempt.at.getTime() >= known.at.getTime()) latest.set(key, attempt);
  }
  return [...latest.values()];
}

/** DPS's error code: one named in the description, else 401002 for an unauthorized device. */
function errorCodeOf(attempt: AttestationAttempt): number | undefined {
  const named = /\b(\d{6})\b/.exec(attempt.resultDescription ?? '');
  if (named) return Number(named[1]);
  return attempt.resultSignature === '401' ? REFUSED_AT_ATTESTATION : undefined;
}

export function observeAttempt(attempt: AttestationAttempt): Observation {
  if (attempt.succeeded) return { kind: 'gone', resolution: 'attested' };
  const over = attempt.protocol ? ` over ${attempt.protocol}` : '';
  const details = [attempt.resultSignature, storedErrorMessage(attempt.resultDescription)?.slice(0, 500)]
    .filter((part) => part)
    .join(', ');
  return {
    kind: 'problem',
    status: 'failed',
    errorCode: errorCodeOf(attempt),
    errorMessage: storedErrorMessage(attempt.resultDescription),
    dpsLastUpdated: attempt.at,
    source: 'attestation-log',
    explanation:
      `DPS refused the device at attestation${over}${details ? ` (${details})` : ''}; it keeps no registration ` +
      "state for it, so this comes from DPS's DeviceOperations resource logs.",
  };
}

/**
 * Ids already shown as refused for their individual enrollment's certificates (the enrollment scan explains
 * those better): one point read each, for the few devices the logs show refused.
 */
async function refusedByEnrollment(store: AuditStore, ids: readonly string[]): Promise<Set<string>> {
  const found = await mapLimit(ids, 8, async (registrationId) => {
    const filter = odata`PartitionKey eq ${INDIVIDUAL_PARTITION} and RowKey eq ${idKey(registrationId)}`;
    for await (const row of store.rows('problems', problemRowSchema, filter)) {
      if (row.open && row.source === 'enrollment-certificate') return registrationId;
    }
    return undefined;
  });
  return new Set(found.filter((id): id is string => id !== undefined));
}

/** Reads the logs appended since the last run and records what they show. */
export async function runAttestationLogPass(context: AttestationLogContext): Promise<AttestationLogResult> {
  const { source, store, passSettings, counters } = context;
  const nowMs = passSettings.now();
  const position = await loadPosition(store, nowMs, source.lookbackHours);
  const read: ArchiveRead = await source.archive.readSince(position, {
    nowMs,
    maxBytes: MAX_BYTES_PER_RUN,
    abortSignal: context.signal,
  });
  const latest = latestAttempts(read.attempts);
  const refused = latest.filter((attempt) => !attempt.succeeded).map((attempt) => attempt.registrationId);
  const skipped = await refusedByEnrollment(store, refused);
  const pass = await PartitionPass.load(
    store,
    ATTESTATION_PARTITION,
    undefined,
    passSettings,
    counters,
    'none',
  );
  const changes = pass.observe(
    latest
      .filter((attempt) => !skipped.has(attempt.registrationId))
      .map((attempt) => ({
        registrationId: attempt.registrationId,
        observation: observeAttempt(attempt),
        stateRead: false,
      })),
  );
  await writeChanges(store, changes, context.assertWritable, context.publishProblems);
  context.assertWritable();
  await savePosition(store, read.position);
  return {
    attempts: read.attempts.length,
    refusedDevices: refused.length - skipped.size,
    blobsRead: read.blobsRead,
    malformedLines: read.malformedLines,
    truncated: read.truncated,
  };
}
