// Shared access signatures for DPS (docs/dps-contract.md §3): service tokens signed with a policy key,
// device tokens signed with an enrollment or derived device key. Pure functions, no I/O.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** encodeURIComponent that also escapes !'()*, as the Azure IoT SDKs do. */
export function encodeUriComponentStrict(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** base64(HMAC-SHA256(base64decode(keyBase64), message)). */
export function hmacSha256Base64(keyBase64: string, message: string): string {
  return createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(message, 'utf8').digest('base64');
}

/** The device key of a group enrollment member: HMAC of the registration id under the group key (§3.3). */
export function deriveDeviceKey(groupKeyBase64: string, registrationId: string): string {
  return hmacSha256Base64(groupKeyBase64, registrationId);
}

export interface SasTokenInput {
  /** The `sr` value exactly as it goes into the token; it is also the string that is signed. */
  resource: string;
  keyBase64: string;
  /** Expiry, in seconds since the Unix epoch. */
  expiry: number;
  /** `skn`: the shared access policy name (service), or `registration` (device). */
  keyName?: string;
}

/** `SharedAccessSignature sr=..&sig=..&skn=..&se=..`, field order as the Node SDK emits it. */
export function buildSasToken({ resource, keyBase64, expiry, keyName }: SasTokenInput): string {
  const sig = encodeUriComponentStrict(hmacSha256Base64(keyBase64, `${resource}\n${expiry}`));
  const skn = keyName === undefined ? '' : `&skn=${encodeUriComponentStrict(keyName)}`;
  return `SharedAccessSignature sr=${resource}&sig=${sig}${skn}&se=${expiry}`;
}

/** A service API token for a DPS host name (`sr` = the host name, URL-encoded, lower case). */
export function buildServiceSasToken(
  hostName: string,
  policyName: string,
  keyBase64: string,
  expiry: number,
): string {
  return buildSasToken({
    resource: encodeUriComponentStrict(hostName.toLowerCase()),
    keyBase64,
    expiry,
    keyName: policyName,
  });
}

/** A device registration token: `sr` = URL-encoded `{idScope}/registrations/{registrationId}`, skn=registration. */
export function buildDeviceSasToken(
  idScope: string,
  registrationId: string,
  deviceKeyBase64: string,
  expiry: number,
): string {
  return buildSasToken({
    resource: encodeUriComponentStrict(`${idScope}/registrations/${registrationId}`),
    keyBase64: deviceKeyBase64,
    expiry,
    keyName: 'registration',
  });
}

export interface ParsedSasToken {
  /** `sr` as it appears in the token (may or may not be URL-encoded). */
  rawResource: string;
  /** `sr` URL-decoded. */
  resource: string;
  /** base64 signature, URL-decoded. */
  signature: string;
  expiry: number;
  keyName: string | undefined;
}

/** Parses an `Authorization` header value; undefined when it is not a well-formed SAS token. */
export function parseSasToken(header: string | undefined | null): ParsedSasToken | undefined {
  const prefix = 'SharedAccessSignature ';
  if (!header || !header.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  if (sr === undefined || sig === undefined || se === undefined || !/^\d+$/.test(se)) return undefined;
  const skn = fields.get('skn');
  try {
    return {
      rawResource: sr,
      resource: decodeURIComponent(sr),
      signature: decodeURIComponent(sig),
      expiry: Number(se),
      keyName: skn === undefined ? undefined : decodeURIComponent(skn),
    };
  } catch {
    return undefined; // malformed percent-encoding
  }
}

export type SasVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks a parsed token against the resource it must grant and one or more candidate keys.
 * The signature may cover `sr` as sent or its URL-encoded form: the Node device SDK signs and sends the
 * raw `{idScope}/registrations/{id}`, the documentation signs and sends the encoded one.
 */
export function verifySasToken(
  token: ParsedSasToken,
  expectedResource: string,
  keysBase64: readonly string[],
  nowSeconds: number,
): SasVerdict {
  if (token.resource.toLowerCase() !== expectedResource.toLowerCase()) {
    return { ok: false, reason: `token resource '${token.resource}' does not grant '${expectedResource}'` };
  }
  if (token.expiry <= nowSeconds) return { ok: false, reason: 'token expired' };
  const given = Buffer.from(token.signature, 'base64');
  const signedForms = new Set([
    token.rawResource,
    token.resource,
    encodeURIComponent(token.resource),
    encodeUriComponentStrict(token.resource),
  ]);
  for (const key of keysBase64) {
    for (const form of signedForms) {
      const expected = Buffer.from(hmacSha256Base64(key, `${form}\n${token.expiry}`), 'base64');
      if (expected.length === given.length && timingSafeEqual(expected, given)) return { ok: true };
    }
  }
  return { ok: false, reason: 'signature does not match' };
}

export interface ServiceConnectionString {
  hostName: string;
  sharedAccessKeyName: string;
  sharedAccessKey: string;
}

/** Parses `HostName=..;SharedAccessKeyName=..;SharedAccessKey=..` (field names case-insensitive). */
export function parseServiceConnectionString(value: string): ServiceConnectionString {
  const fields = new Map<string, string>();
  for (const part of value.split(';')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error('DPS connection string: each part must be Name=Value');
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const hostName = fields.get('hostname');
  const sharedAccessKeyName = fields.get('sharedaccesskeyname');
  const sharedAccessKey = fields.get('sharedaccesskey');
  const missing = [
    ['HostName', hostName],
    ['SharedAccessKeyName', sharedAccessKeyName],
    ['SharedAccessKey', sharedAccessKey],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0 || !hostName || !sharedAccessKeyName || !sharedAccessKey) {
    throw new Error(`DPS connection string is missing ${missing.join(', ')}`);
  }
  return { hostName, sharedAccessKeyName, sharedAccessKey };
}
