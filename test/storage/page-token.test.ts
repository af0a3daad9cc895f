// Continuation tokens handed out by the read APIs must be ones they gave out, in a URL-safe form.
import { decodePageToken, encodePageToken } from '../../src/storage/page-token';

describe('continuation tokens', () => {
  const sdkToken = Buffer.from(
    JSON.stringify({ nextPartitionKey: 'fleet-a', nextRowKey: 'dev+/1' }),
  ).toString('base64');

  it('round-trip as URL-safe text', () => {
    const token = encodePageToken(sdkToken);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token)).toBe(sdkToken);
  });

  it('refuse tokens the API did not give out', () => {
    const notJson = Buffer.from('nope').toString('base64url');
    const otherShape = Buffer.from('{"partition":"x"}').toString('base64url');
    for (const token of ['', 'a+b', 'not-a-token', notJson, otherShape, 'A'.repeat(9000)]) {
      expect(decodePageToken(token)).toBeUndefined();
    }
  });

  it('fail loudly if the table SDK changes its token format', () => {
    expect(() => encodePageToken('not base64 json')).toThrow(/continuation token format/);
  });
});
