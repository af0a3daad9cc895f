// The audit rows as the HTTP API and `npm run audit -- ... --json` show them: table keys and bookkeeping
// left out, findings as an array, the scan state without DPS's page token. Dates serialise as ISO strings.
import { z } from 'zod';
import { unescapeKey } from '../../storage/keys';
import {
  findingSchema,
  type EnrollmentKind,
  type Finding,
  type FindingsRow,
  type HistoryRow,
  type ProblemRow,
  type ScanRunRow,
} from '../rows/tables';
import type { ScanState } from './queries';

export type ProblemView = Omit<ProblemRow, 'partitionKey' | 'rowKey' | 'historyStarted'>;
export type HistoryView = Omit<HistoryRow, 'partitionKey' | 'rowKey'>;
export type ScanRunView = Omit<ScanRunRow, 'partitionKey' | 'rowKey'>;

export interface FindingsView {
  kind: EnrollmentKind;
  enrollmentId: string;
  allocationPolicy: string;
  provisioningStatus: string;
  /** Scheme, host and path of the webhook URL: never its function key. */
  webhook?: string;
  findings: Finding[];
  lastChanged: Date;
  lastSeen: Date;
}

export interface ScanStateView {
  /** Whether a run holds the scan's lease now. */
  running: boolean;
  leaseOwner?: string;
  leaseExpiresAt?: Date;
  scanId?: string;
  scanStartedAt?: Date;
  /** `done`: the last scan completed; the next run starts a new one. */
  phase?: string;
  /** The (lower-case) group the scan goes on from. */
  group?: string;
  runs?: number;
}

export function problemView(row: ProblemRow): ProblemView {
  const { partitionKey: _partition, rowKey: _row, historyStarted: _started, ...view } = row;
  return view;
}

export function historyView(row: HistoryRow): HistoryView {
  const { partitionKey: _partition, rowKey: _row, ...view } = row;
  return view;
}

export function scanRunView(row: ScanRunRow): ScanRunView {
  const { partitionKey: _partition, rowKey: _row, ...view } = row;
  return view;
}

const findingListSchema = z.array(findingSchema);

function parseFindings(text: string): Finding[] {
  try {
    const parsed = findingListSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

export function findingsView(row: FindingsRow): FindingsView {
  return {
    kind: row.partitionKey,
    enrollmentId: row.enrollmentId,
    allocationPolicy: row.allocationPolicy,
    provisioningStatus: row.provisioningStatus,
    webhook: row.webhook,
    findings: parseFindings(row.findings),
    lastChanged: row.lastChanged,
    lastSeen: row.lastSeen,
  };
}

export function scanStateView(state: ScanState): ScanStateView {
  const { checkpoint } = state;
  return {
    running: state.leaseOwner !== undefined,
    leaseOwner: state.leaseOwner,
    leaseExpiresAt: state.leaseExpiresAt,
    scanId: checkpoint?.scanId,
    scanStartedAt: checkpoint?.scanStartedAt,
    phase: checkpoint?.phase,
    group: checkpoint?.groupKey === undefined ? undefined : unescapeKey(checkpoint.groupKey),
    runs: checkpoint?.runs,
  };
}
