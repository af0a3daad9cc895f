// Continuation tokens as the audit views hand them out. The table SDK's token is base64 of JSON holding the next
// partition and row keys; the same bytes in base64url travel in a URL without escaping. A token coming back is
// checked before the SDK sees it: a garbled one is the caller's mistake (400), not a storage failure.
import { z } from 'zod';

const MAX_TOKEN_LENGTH = 8 * 1024;

const sdkTokenSchema = z.object({
  nextPartitionKey: z.string().min(1).max(1024),
  nextRowKey: z.string().max(1024).optional(),
});

function isTokenJson(bytes: Buffer): boolean {
  try {
    return sdkTokenSchema.safeParse(JSON.parse(bytes.toString('utf8'))).success;
  } catch {
    return false;
  }
}

/** The token to give out for the table SDK's continuation token. */
export function encodePageToken(sdkToken: string): string {
  const bytes = Buffer.from(sdkToken, 'base64');
  if (bytes.toString('base64') !== sdkToken || !isTokenJson(bytes)) {
    // The SDK changed its token format: fail loudly rather than hand out tokens that cannot come back.
    throw new Error('Unexpected continuation token format from @azure/data-tables');
  }
  return bytes.toString('base64url');
}

/** The table SDK's continuation token, or undefined when `token` is not one encodePageToken gave out. */
export function decodePageToken(token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  return bytes.toString('base64url') === token && isTokenJson(bytes) ? bytes.toString('base64') : undefined;
}
