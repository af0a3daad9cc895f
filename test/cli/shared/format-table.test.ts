import { formatCount, formatPercent, renderTable } from '../../../src/cli/shared/format-table';

describe('text tables', () => {
  it('aligns columns, right-aligning numbers, with a rule under the header', () => {
    const table = renderTable(
      [{ header: 'Hub' }, { header: 'Devices', align: 'right' }],
      [
        ['a.azure-devices.net', '5'],
        ['b', '100,000'],
      ],
    );
    expect(table.split('\n')).toEqual([
      'Hub                  Devices',
      '-------------------  -------',
      'a.azure-devices.net        5',
      'b                    100,000',
    ]);
  });

  it('leaves no trailing spaces after a short last cell', () => {
    const table = renderTable([{ header: 'A' }, { header: 'Long header' }], [['x', '']]);
    expect(table.split('\n').every((line) => line === line.trimEnd())).toBe(true);
  });

  it('formats counts with thousands separators and shares with one decimal', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
    expect(formatPercent(0.2)).toBe('20.0%');
    expect(formatPercent(1 / 3)).toBe('33.3%');
  });
});
