// `npm run audit -- trends` as text: one line per UTC day, oldest first (problems opened and resolved,
// allocations, the busiest hubs of the day), then totals and when each series last changed.
import type { TrendsView } from '../../trends/view';
import { formatCount, NOT_APPLICABLE, renderTable, type Column } from '../shared/format-table';

/** Hubs shown per day; the JSON view has them all. */
export const TOP_HUBS = 3;

function topHubs(byHub: Record<string, number>): string {
  const hubs = Object.entries(byHub)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, TOP_HUBS);
  return hubs.length === 0 ? NOT_APPLICABLE : hubs.map(([hub, n]) => `${hub} ${formatCount(n)}`).join(', ');
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

export function renderTrends(view: TrendsView): string {
  const columns: Column[] = [
    { header: 'DAY' },
    { header: 'OPENED', align: 'right' },
    { header: 'RESOLVED', align: 'right' },
    { header: 'ALLOCATIONS', align: 'right' },
    { header: 'REJECTED', align: 'right' },
    { header: 'TOP HUBS' },
  ];
  const table = renderTable(
    columns,
    view.problems.map((problems, i) => {
      const allocations = view.allocations[i]!;
      return [
        problems.day,
        formatCount(problems.opened.total),
        formatCount(problems.resolved.total),
        formatCount(allocations.total),
        formatCount(allocations.byOutcome.rejected + allocations.byOutcome['invalid-request']),
        topHubs(allocations.byHub),
      ];
    }),
  );
  const opened = sum(view.problems.map((day) => day.opened.total));
  const resolved = sum(view.problems.map((day) => day.resolved.total));
  const allocations = sum(view.allocations.map((day) => day.total));
  const updated = (at: string | null) => at ?? 'never';
  return [
    table,
    '',
    `${view.from} to ${view.to} (UTC): ${formatCount(opened)} problems opened, ${formatCount(resolved)} resolved, ` +
      `${formatCount(allocations)} allocation requests over ${view.hubs.length} hubs.`,
    `Last changed: problems ${updated(view.updatedAt.problems)}, allocations ${updated(view.updatedAt.allocations)} ` +
      '(the audit timer refreshes the roll-up after each scan run).',
  ].join('\n');
}
