// The enrollment findings table, diff-based like the problems: a row is written only when the checks' result
// changed or its lastSeen is due for a refresh. Every enrollment group has a row (so the table also lists the
// groups the audit knows); an individual enrollment has one only while it has findings.
import { odata } from '@azure/data-tables';
import type { EnrollmentGroup, IndividualEnrollment } from '../../dps/schemas';
import { idKey } from '../../storage/keys';
import { findingSchema, findingsRowSchema, type Finding, type FindingsRow } from '../rows/tables';
import type { AuditStore, RowAction } from '../store';
import { reviewEnrollment } from './enrollment-review';

export interface FindingsSettings {
  expectedWebhookUrl: string | undefined;
  /** A certificate expiring within this is a finding (AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS). */
  certificateExpiryWarningMs: number;
  lastSeenRefreshMs: number;
  now: () => number;
}

type FindingsPartition = FindingsRow['partitionKey'];

/** A finding code that appeared on an enrollment, or went (the enrollment.finding-* events, src/events). */
export interface FindingTransition {
  kind: 'raised' | 'cleared';
  enrollmentKind: FindingsPartition;
  enrollmentId: string;
  finding: Finding;
  /** When the review saw it. */
  at: Date;
  /** The stored row's lastChanged before this change; undefined when there was no row. */
  previousLastChanged?: Date;
}

function storedFindings(row: FindingsRow | undefined): Finding[] {
  if (!row) return [];
  try {
    const parsed = findingSchema.array().safeParse(JSON.parse(row.findings));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** The codes that differ between the stored row and the review's findings. */
function findingTransitions(
  stored: FindingsRow | undefined,
  partition: FindingsPartition,
  enrollmentId: string,
  findings: readonly Finding[],
  at: Date,
): FindingTransition[] {
  const before = storedFindings(stored);
  const base = { enrollmentKind: partition, enrollmentId, at, previousLastChanged: stored?.lastChanged };
  const codes = (list: readonly Finding[]) => new Set(list.map((finding) => finding.code));
  const now = codes(findings);
  const then = codes(before);
  return [
    ...findings
      .filter((f) => !then.has(f.code))
      .map((finding) => ({ ...base, kind: 'raised' as const, finding })),
    ...before
      .filter((f) => !now.has(f.code))
      .map((finding) => ({ ...base, kind: 'cleared' as const, finding })),
  ];
}

/** Every finding of a row that is deleted (its enrollment is gone): each one cleared. */
export function findingsClearedWith(row: FindingsRow, at: Date): FindingTransition[] {
  return findingTransitions(row, row.partitionKey, row.enrollmentId, [], at);
}

export class FindingsPass {
  private readonly seen = new Set<string>();

  private constructor(
    private readonly partition: FindingsPartition,
    /** The stored rows, by RowKey; updated as rows are written. */
    readonly rows: Map<string, FindingsRow>,
    private readonly settings: FindingsSettings,
  ) {}

  static async load(
    store: AuditStore,
    partition: FindingsPartition,
    settings: FindingsSettings,
  ): Promise<FindingsPass> {
    const rows = await store.rowMap('findings', findingsRowSchema, odata`PartitionKey eq ${partition}`);
    return new FindingsPass(partition, rows, settings);
  }

  /**
   * The writes for a page of enrollments (an individual enrollment's row is deleted once its findings clear). The
   * codes raised and cleared are appended to `transitions` when given.
   */
  review(
    enrollments: ReadonlyArray<EnrollmentGroup | IndividualEnrollment>,
    transitions?: FindingTransition[],
  ): RowAction[] {
    const actions: RowAction[] = [];
    const nowMs = this.settings.now();
    for (const enrollment of enrollments) {
      const enrollmentId =
        this.partition === 'group'
          ? (enrollment as EnrollmentGroup).enrollmentGroupId
          : (enrollment as IndividualEnrollment).registrationId;
      const rowKey = idKey(enrollmentId);
      const review = reviewEnrollment(enrollment, this.partition, {
        expectedWebhookUrl: this.settings.expectedWebhookUrl,
        nowMs,
        expiryWarningMs: this.settings.certificateExpiryWarningMs,
      });
      const stored = this.rows.get(rowKey);
      transitions?.push(
        ...findingTransitions(stored, this.partition, enrollmentId, review.findings, new Date(nowMs)),
      );
      if (this.partition === 'individual' && review.findings.length === 0) {
        if (stored) {
          actions.push(['delete', stored]);
          this.rows.delete(rowKey);
        }
        continue;
      }
      // Only enrollments with a row are remembered: memory stays bounded by the rows, not the enrollments.
      this.seen.add(rowKey);
      const findings = JSON.stringify(review.findings);
      const changed =
        !stored ||
        stored.allocationPolicy !== review.allocationPolicy ||
        stored.provisioningStatus !== review.provisioningStatus ||
        stored.webhook !== review.webhook ||
        stored.findings !== findings;
      if (!changed && nowMs - stored.lastSeen.getTime() < this.settings.lastSeenRefreshMs) continue;
      const row: FindingsRow = {
        partitionKey: this.partition,
        rowKey,
        enrollmentId,
        allocationPolicy: review.allocationPolicy,
        provisioningStatus: review.provisioningStatus,
        webhook: review.webhook,
        findings,
        findingCount: review.findings.length,
        lastChanged: changed || !stored ? new Date(nowMs) : stored.lastChanged,
        lastSeen: new Date(nowMs),
      };
      this.rows.set(rowKey, row);
      actions.push(['upsert', row]);
    }
    return actions;
  }

  /**
   * Rows of enrollments this pass did not see, by the same rule as problems (partition-pass.ts): all of them
   * when the pass ran in one run, else those whose lastSeen proves they were not seen during the scan.
   */
  unseen(spanned: boolean, scanStartedAt: Date): FindingsRow[] {
    const oldestSeen = scanStartedAt.getTime() - this.settings.lastSeenRefreshMs;
    return [...this.rows].flatMap(([rowKey, row]) =>
      this.seen.has(rowKey) || (spanned && row.lastSeen.getTime() >= oldestSeen) ? [] : [row],
    );
  }
}
