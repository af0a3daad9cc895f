// `npm run audit -- decisions` as text: one line per decision, oldest first, then a line per outcome and hub.
import type { DecisionSummary, DecisionView } from '../../decisions/views';
import { formatCount, NOT_APPLICABLE, renderTable, type Column } from '../shared/format-table';
import { formatTime } from './render';

/** Reasons listed under the table at most. */
const MAX_REASONS = 20;

const orNone = (value: string | null) => (value === null || value === '' ? NOT_APPLICABLE : value);

function enrollmentOf(view: DecisionView): string {
  if (view.enrollmentKind === 'individual') return '(individual)';
  return orNone(view.enrollmentId);
}

function formatLatency(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

/** "12 decisions: 10 assigned (hub-a 6, hub-b 4), 2 rejected." */
export function summaryLine(views: readonly DecisionView[]): string {
  const hubs = new Map<string, number>();
  const outcomes = new Map<string, number>();
  for (const view of views) {
    outcomes.set(view.outcome, (outcomes.get(view.outcome) ?? 0) + 1);
    if (view.outcome === 'assigned' && view.hub) hubs.set(view.hub, (hubs.get(view.hub) ?? 0) + 1);
  }
  return countsLine(
    views.length,
    outcomes,
    [...hubs].map(([hub, count]) => ({ hub, count })),
  );
}

/** The same line from a window's totals (GET /api/decisions/summary), when the table shows only part of it. */
export function summaryLineOf(summary: DecisionSummary): string {
  const outcomes = new Map(Object.entries(summary.outcomes).filter(([, count]) => count > 0));
  return `In the whole window: ${countsLine(summary.total, outcomes, summary.hubs)}`;
}

function countsLine(
  total: number,
  outcomes: ReadonlyMap<string, number>,
  hubs: ReadonlyArray<{ hub: string; count: number }>,
): string {
  const perHub = [...hubs]
    .sort((a, b) => b.count - a.count || (a.hub < b.hub ? -1 : 1))
    .map(({ hub, count }) => `${hub} ${formatCount(count)}`)
    .join(', ');
  const parts = (['assigned', 'rejected', 'invalid-request'] as const)
    .filter((outcome) => outcomes.has(outcome))
    .map((outcome) => {
      const count = formatCount(outcomes.get(outcome)!);
      return outcome === 'assigned' && perHub ? `${count} assigned (${perHub})` : `${count} ${outcome}`;
    });
  return `${formatCount(total)} decision${total === 1 ? '' : 's'}: ${parts.join(', ')}.`;
}

/** `totals`: the whole window's counts, printed when the table shows only the first rows. */
export function renderDecisions(
  views: readonly DecisionView[],
  more: boolean,
  totals?: DecisionSummary,
): string {
  if (views.length === 0) return 'No decisions recorded in that time.';
  const columns: Column[] = [
    { header: 'TIME' },
    { header: 'REGISTRATION ID' },
    { header: 'GROUP' },
    { header: 'OUTCOME' },
    { header: 'RULE' },
    { header: 'STRATEGY' },
    { header: 'HUB' },
    { header: 'ASSIGNMENT' },
    { header: 'LATENCY', align: 'right' },
  ];
  const table = renderTable(
    columns,
    views.map((view) => [
      formatTime(new Date(view.at)),
      orNone(view.registrationId),
      enrollmentOf(view),
      view.outcome,
      orNone(view.rule),
      orNone(view.strategy),
      orNone(view.hub),
      orNone(view.assignment),
      formatLatency(view.latencyMs),
    ]),
  );
  const summary =
    summaryLine(views) +
    (more ? ' More match: raise --limit or narrow --since.' : '') +
    (more && totals ? `\n${summaryLineOf(totals)}` : '');
  const refused = views.filter((view) => view.outcome !== 'assigned');
  const why = refused
    .slice(0, MAX_REASONS)
    .map((view) => `  ${formatTime(new Date(view.at))} ${orNone(view.registrationId)}: ${view.reason}`);
  if (refused.length > MAX_REASONS) why.push(`  … and ${formatCount(refused.length - MAX_REASONS)} more`);
  return [table, '', summary, ...(why.length > 0 ? ['', 'Why not assigned:', ...why] : [])].join('\n');
}
