// Entity group transactions: one partition each, at most 100 operations, in order.
import type { RowAction } from '../../src/audit/store';
import { transactionsOf } from '../../src/storage/transactions';

describe('transactionsOf', () => {
  it('groups actions by partition, in order, at most 100 per transaction', () => {
    const actions: RowAction[] = [];
    for (let i = 0; i < 250; i++)
      actions.push(['upsert', { partitionKey: i % 2 ? 'b' : 'a', rowKey: String(i) }]);
    actions.push(['delete', { partitionKey: 'c', rowKey: 'x' }]);
    const transactions = transactionsOf(actions, (action) => action[1].partitionKey);
    expect(transactions.map((t) => [t[0]![1].partitionKey, t.length])).toEqual([
      ['a', 100],
      ['a', 25],
      ['b', 100],
      ['b', 25],
      ['c', 1],
    ]);
    for (const transaction of transactions) {
      expect(new Set(transaction.map(([, row]) => row.partitionKey)).size).toBe(1);
    }
    expect(
      transactions
        .flat()
        .filter(([, row]) => row.partitionKey === 'a')
        .map(([, row]) => row.rowKey),
    ).toEqual(actions.filter(([, row]) => row.partitionKey === 'a').map(([, row]) => row.rowKey));
  });
});
