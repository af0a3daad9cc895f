// Entity group transactions hold operations of one partition only, at most 100 of them (and 4 MiB: rows here are
// a few KiB at most): https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions
export const MAX_TRANSACTION = 100;

/** Splits items into transactions: grouped by partition, in order, at most 100 each. */
export function transactionsOf<T>(items: readonly T[], partitionOf: (item: T) => string): T[][] {
  const byPartition = new Map<string, T[]>();
  for (const item of items) {
    const partition = partitionOf(item);
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    list.push(item);
  }
  const transactions: T[][] = [];
  for (const list of byPartition.values()) {
    for (let i = 0; i < list.length; i += MAX_TRANSACTION)
      transactions.push(list.slice(i, i + MAX_TRANSACTION));
  }
  return transactions;
}
