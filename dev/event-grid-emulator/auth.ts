// Who may publish (and read the stream): the topic key in `aeg-sas-key` (header or query), or a SAS token in
// `aeg-sas-token` or `Authorization: SharedAccessSignature <token>` (docs/events-contract.md §2.2). A token is
// checked the way the SDK's generateSharedAccessSignature builds it: `r=<enc resource>&e=<enc expiry>` signed
// with HMAC-SHA256 under the base64-decoded key, `s=<enc signature>` appended. Exactly how the service validates
// tokens is UNCONFIRMED (docs/events-contract.md §6, point 4); see README.md.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { topicUnauthorized } from './errors';

function sameSecret(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison leaks neither content nor length.
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** "M/d/yyyy h:mm:ss AM" in UTC, as the SDK writes the expiry (its util.dateToServiceTimeString); ISO 8601 too. */
export function parseSasExpiry(text: string): Date | undefined {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)$/i.exec(text.trim());
  if (match) {
    const [, month, day, year, hour, minute, second, half] = match.map((part) => part ?? '');
    const hour12 = Number(hour) % 12;
    const hour24 = half?.toUpperCase() === 'PM' ? hour12 + 12 : hour12;
    const date = new Date(
      Date.UTC(Number(year), Number(month) - 1, Number(day), hour24, Number(minute), Number(second)),
    );
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (!/^\d{4}-\d\d-\d\dT/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Why a SAS token is refused, or undefined when it is valid for `topicPath` at `now`. */
export function sasTokenProblem(
  token: string,
  key: string,
  topicPath: string,
  now: Date,
): string | undefined {
  const signatureAt = token.lastIndexOf('&s=');
  if (signatureAt < 0) return 'The SAS token has no signature (s=)';
  const unsigned = token.slice(0, signatureAt);
  const fields = new URLSearchParams(unsigned);
  const resource = fields.get('r');
  const expiry = fields.get('e');
  if (resource === null || expiry === null) return 'The SAS token must carry r= (resource) and e= (expiry)';
  let signature: string;
  try {
    signature = decodeURIComponent(token.slice(signatureAt + 3));
  } catch {
    return 'The SAS token signature is not URL-encoded';
  }
  const expected = createHmac('sha256', Buffer.from(key, 'base64')).update(unsigned, 'utf8').digest('base64');
  if (!sameSecret(signature, expected)) return 'The SAS token signature does not match the topic key';
  const expiresOn = parseSasExpiry(expiry);
  if (expiresOn === undefined) return 'The SAS token expiry (e=) cannot be read';
  if (expiresOn.getTime() <= now.getTime()) return `The SAS token expired at ${expiresOn.toISOString()}`;
  // The resource is the endpoint URL: its host may be 127.0.0.1 or localhost, so only its path is compared.
  let resourcePath: string;
  try {
    resourcePath = new URL(resource).pathname;
  } catch {
    return 'The SAS token resource (r=) is not a URL';
  }
  const normalise = (path: string) => path.replace(/\/+$/, '').toLowerCase();
  if (normalise(resourcePath) !== normalise(topicPath)) return "The SAS token's resource is another topic";
  return undefined;
}

/** Throws a 401 TopicHttpError unless the request carries the key or a valid SAS token. */
export function authorize(
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
  key: string,
  topicPath: string,
  now: Date,
): void {
  const givenKey = headerValue(headers, 'aeg-sas-key') ?? query.get('aeg-sas-key') ?? undefined;
  if (givenKey !== undefined) {
    if (sameSecret(givenKey, key)) return;
    throw topicUnauthorized('The request authorization key is not authorized for this topic (aeg-sas-key)');
  }
  const authorization = headerValue(headers, 'authorization');
  const token =
    headerValue(headers, 'aeg-sas-token') ??
    (authorization && /^SharedAccessSignature\s+/i.test(authorization)
      ? authorization.replace(/^SharedAccessSignature\s+/i, '')
      : undefined);
  if (token !== undefined) {
    const problem = sasTokenProblem(token, key, topicPath, now);
    if (problem === undefined) return;
    throw topicUnauthorized(problem);
  }
  if (authorization !== undefined && /^Bearer\s/i.test(authorization)) {
    throw topicUnauthorized('Microsoft Entra tokens are not emulated: use the topic key (aeg-sas-key)');
  }
  throw topicUnauthorized('The request carries no aeg-sas-key, aeg-sas-token or SharedAccessSignature');
}
