// Plain-text tables for terminal reports: aligned columns, thousands separators, fixed-precision percentages.

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Shown where a figure does not apply (hub not linked, share not driven by weights). */
export const NOT_APPLICABLE = '–';

const COUNT_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 100000 -> "100,000", the same on every machine whatever its locale. */
export function formatCount(value: number): string {
  return COUNT_FORMAT.format(value);
}

/** A fraction as a percentage with one decimal: 0.2 -> "20.0%". */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Columns separated by two spaces, a dashed rule under the header, no trailing spaces. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join(
    '\n',
  );
}
