// Table names are `${AUDIT_TABLE_PREFIX}${suffix}`: the audit's tables and the decision log's share the prefix.
// Table names are 3-63 letters or digits, starting with a letter
// (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#table-names);
// a prefix of up to 39 leaves room for every suffix.

export const DEFAULT_TABLE_PREFIX = 'Audit';

/** The table of `suffix` under `prefix`; a prefix that cannot start a table name is a RangeError. */
export function tableName(prefix: string, suffix: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]{0,39}$/.test(prefix)) {
    throw new RangeError('The audit table prefix must be a letter followed by up to 39 letters or digits');
  }
  return `${prefix}${suffix}`;
}
