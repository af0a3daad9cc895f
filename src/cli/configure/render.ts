// Output of the configure command: readable lines (before/after of the changed fields in a dry run, one line per
// enrollment otherwise) or JSON for scripts. Everything rendered here comes from display-safe values: masked
// webhook URLs, ids, hub names; never an enrollment body.
import type { EnrollmentOutcome, OutcomeStatus } from './apply';
import { describeTarget, type FieldChange } from './plan';

export interface RenderContext {
  dryRun: boolean;
  /** The wanted webhook URL, masked. */
  maskedWebhookUrl: string;
  apiVersion: string;
}

export interface RenderedOutput {
  /** For stdout. */
  out: string[];
  /** For stderr: failures and notes. */
  err: string[];
}

const NONE = '(none)';

function verb(status: OutcomeStatus, dryRun: boolean): string {
  if (!dryRun) return status;
  if (status === 'created') return 'would create';
  if (status === 'updated') return 'would update';
  return status;
}

function changeLine(change: FieldChange): string {
  const note = change.note === undefined ? '' : ` (${change.note})`;
  return `  ${change.field}: ${change.before ?? NONE} -> ${change.after ?? NONE}${note}`;
}

export function renderText(outcomes: readonly EnrollmentOutcome[], context: RenderContext): RenderedOutput {
  const out: string[] = [];
  const err: string[] = [];
  // The URL ends the line: the pattern-based redaction treats whatever follows `code=` up to a space as the key.
  const target = `apiVersion ${context.apiVersion}, webhook ${context.maskedWebhookUrl}`;
  for (const outcome of outcomes) {
    const name = describeTarget(outcome.target);
    if (outcome.status === 'failed') {
      err.push(`${name}: failed: ${outcome.error ?? 'unknown error'}`);
      continue;
    }
    for (const note of outcome.notes) err.push(`${name}: note: ${note}`);
    if (outcome.status === 'unchanged') {
      out.push(`${name}: unchanged, already ${target}`);
    } else if (context.dryRun) {
      out.push(`${name}: ${verb(outcome.status, true)}`);
      out.push(...outcome.changes.map(changeLine));
    } else {
      const retried =
        outcome.conflicts > 0 ? ` (re-read after ${outcome.conflicts} change(s) by someone else)` : '';
      out.push(`${name}: ${outcome.status}${retried}: ${target}`);
    }
  }
  if (context.dryRun) out.push('dry run: nothing was written');
  return { out, err };
}

export function renderJson(outcomes: readonly EnrollmentOutcome[], context: RenderContext): string {
  return JSON.stringify(
    {
      dryRun: context.dryRun,
      webhookUrl: context.maskedWebhookUrl,
      apiVersion: context.apiVersion,
      results: outcomes.map((outcome) => ({
        kind: outcome.target.kind,
        id: outcome.target.id,
        status: outcome.status,
        written: !outcome.dryRun && (outcome.status === 'created' || outcome.status === 'updated'),
        changes: outcome.changes.map((change) => ({
          field: change.field,
          before: change.before ?? null,
          after: change.after ?? null,
          ...(change.note === undefined ? {} : { note: change.note }),
        })),
        ...(outcome.etag === undefined ? {} : { etag: outcome.etag }),
        conflicts: outcome.conflicts,
        notes: outcome.notes,
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
      })),
    },
    null,
    2,
  );
}
