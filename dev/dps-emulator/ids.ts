// Identifiers: registration and enrollment group ids (case-insensitive, stored under a lower-case key),
// etags and operation ids.
import { randomBytes, randomUUID } from 'node:crypto';
import { badRequest } from './errors';

// "alphanumeric characters plus : . _ -, up to 128, no special characters at start or end" (the REST spec,
// docs/dps-contract.md §2.1). Some Learn pages allow a trailing dash; the spec is what the service checks.
const ID_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9:._-]{0,126}[A-Za-z0-9])?$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** The store key of an id: ids are case-insensitive. */
export function idKey(id: string): string {
  return id.toLowerCase();
}

/** Throws a 400 unless `id` is a well-formed registration or enrollment group id. */
export function assertValidId(id: string, what: string): void {
  if (!isValidId(id)) {
    throw badRequest(
      `${what} '${id.slice(0, 140)}' is invalid: use 1-128 characters (letters, digits, ':', '.', '_', '-'), ` +
        'starting and ending with a letter or digit',
    );
  }
}

/** A path segment, URL-decoded; a malformed escape is the caller's error, not a 500. */
export function decodePathSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`${what} is not validly URL-encoded`);
  }
}

/** Etags look like DPS's quoted GUID-like strings and are derived from a write sequence number. */
export function formatEtag(sequence: number): string {
  return `"${sequence.toString(16).padStart(8, '0')}-0000-0000-0000-000000000000"`;
}

/** True when an `If-Match` value matches the current etag (`*` matches anything that exists). */
export function etagMatches(ifMatch: string, currentEtag: string): boolean {
  const wanted = ifMatch.trim();
  if (wanted === '*') return true;
  const strip = (value: string) => value.replace(/^W\//, '').replace(/^"|"$/g, '');
  return strip(wanted) === strip(currentEtag);
}

/** Operation ids shaped like DPS's: `5.<16 hex>.<uuid>`. */
export function newOperationId(): string {
  return `5.${randomBytes(8).toString('hex')}.${randomUUID()}`;
}

/** A fresh symmetric key: 64 random bytes, base64, as DPS generates them. */
export function newSymmetricKey(): string {
  return randomBytes(64).toString('base64');
}
