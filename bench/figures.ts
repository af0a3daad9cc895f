// What every benchmark module reports: measured figures, each with an optional goal. Benchmarks never assert;
// the runner prints the figure next to its goal and says whether it was met.

export type Goal = { atLeast: number } | { atMost: number };

export interface Figure {
  metric: string;
  value: number;
  unit: string;
  goal?: Goal;
  /** Whether the value meets the goal; undefined when there is no goal. */
  met?: boolean;
  /** Context for the reader (what was measured, sample sizes). */
  note?: string;
}

export interface BenchOptions {
  /** Shorter runs, for trying the script out; the figures are then less precise. */
  quick: boolean;
}

/** A benchmark the runner can run: `npm run bench -- <name>` runs only the modules named. */
export interface BenchModule {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<Figure[]>;
}

export function figure(
  metric: string,
  value: number,
  unit: string,
  extra: { goal?: Goal; note?: string } = {},
): Figure {
  const { goal, note } = extra;
  const met =
    goal === undefined ? undefined : 'atLeast' in goal ? value >= goal.atLeast : value <= goal.atMost;
  return { metric, value, unit, goal, met, note };
}

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatGoal(goal: Goal | undefined, unit: string): string {
  if (goal === undefined) return '';
  const withUnit = (n: number) => `${formatValue(n)}${unit.startsWith('/') ? '' : ' '}${unit}`;
  return 'atLeast' in goal ? `>= ${withUnit(goal.atLeast)}` : `<= ${withUnit(goal.atMost)}`;
}

/** A plain-text table: metric, value, unit, goal, met; notes under their row. */
export function formatFigures(figures: readonly Figure[]): string[] {
  const rows = figures.map((f) => [
    f.metric,
    formatValue(f.value),
    f.unit,
    formatGoal(f.goal, f.unit),
    f.met === undefined ? '' : f.met ? 'yes' : 'NO',
  ]);
  const header = ['metric', 'value', 'unit', 'goal', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)))];
  figures.forEach((f, i) => {
    out.push(line(rows[i]!));
    if (f.note) out.push(`    ${f.note}`);
  });
  return out;
}
