// Device ids, etags and generation ids as IoT Hub writes them. Device ids are case-sensitive
// (https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-identity-registry#device-identity-properties).
import { hubBadRequest } from './errors';

// ASCII letters and digits plus - . + % _ # * ? ! ( ) , : = @ $ ', up to 128 (the identity registry page).
const DEVICE_ID_PATTERN = /^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/;

export function assertValidDeviceId(deviceId: string): void {
  if (!DEVICE_ID_PATTERN.test(deviceId)) {
    throw hubBadRequest(
      `Device id '${deviceId.slice(0, 140)}' is invalid: use 1-128 ASCII letters, digits or - . + % _ # * ? ! ( ) , : = @ $ '`,
    );
  }
}

/** A URL path segment, decoded; a malformed escape is a 400. */
export function decodeSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw hubBadRequest(`${what} is not validly URL-encoded`);
  }
}

/** A device identity's etag: base64 of a decimal counter, as IoT Hub's look (e.g. `MjQ3NjEzMjk0`). */
export function deviceEtag(sequence: number): string {
  return Buffer.from(String(sequence), 'utf8').toString('base64');
}

/** A twin's etag: base64 of a 64-bit big-endian counter, as IoT Hub's look (e.g. `AAAAAAAAAAE=`). */
export function twinEtag(sequence: number): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(sequence));
  return bytes.toString('base64');
}

// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
const EPOCH_TICKS = 621_355_968_000_000_000n;

/** A generation id like IoT Hub's (.NET ticks of the creation time); the sequence keeps it unique. */
export function generationIdOf(createdMs: number, sequence: number): string {
  return String(BigInt(Math.floor(createdMs)) * 10_000n + EPOCH_TICKS + BigInt(sequence % 10_000));
}

/** `"etag"`, as IoT Hub's ETag headers quote it. */
export function quoted(etag: string): string {
  return `"${etag}"`;
}

/**
 * True when an If-Match value matches `etag`: quotes and `W/` aside, or `*` (quoted too: the Node SDK sends `"*"`
 * when it updates or deletes unconditionally).
 */
export function ifMatchAccepts(ifMatch: string, etag: string): boolean {
  const wanted = ifMatch.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  return wanted === '*' || wanted === etag;
}
