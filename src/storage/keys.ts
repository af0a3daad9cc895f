// Table keys. PartitionKey/RowKey may not hold / \ # ? or control characters (U+0000-U+001F, U+007F-U+009F) and
// are at most 1 KiB. DPS ids are case-insensitive and use [A-Za-z0-9-._:]: keys are the lower-cased id with
// every other character percent-encoded (UTF-8), `%` included, so the escaping is reversible and an id such as
// `a/b` never meets `a%2Fb`. `~` and `|` are always encoded too: the audit's own keys use them as markers.

const KEPT = /[A-Za-z0-9\-._:]/;
const MAX_KEY_LENGTH = 1024;

function percentEncode(character: string): string {
  return [...Buffer.from(character, 'utf8')]
    .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}

/** A table key for any string: characters outside [A-Za-z0-9-._:] percent-encoded. */
export function escapeKey(value: string): string {
  let escaped = '';
  for (const character of value) {
    escaped += KEPT.test(character) ? character : percentEncode(character);
  }
  if (escaped.length > MAX_KEY_LENGTH) {
    throw new RangeError(`A table key may be at most ${MAX_KEY_LENGTH} characters once escaped`);
  }
  return escaped;
}

/** The string escapeKey encoded. */
export function unescapeKey(key: string): string {
  return decodeURIComponent(key);
}

/** The key of a DPS id (registration or enrollment group id): case-insensitive, so lower-cased first. */
export function idKey(id: string): string {
  return escapeKey(id.toLowerCase());
}
