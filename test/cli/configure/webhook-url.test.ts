import { UsageError } from '../../../src/cli/shared/usage-error';
import {
  buildWebhookUrl,
  hasFunctionKey,
  maskWebhookUrl,
  sameWebhookUrl,
} from '../../../src/cli/configure/webhook-url';

const BASE = 'https://my-app.azurewebsites.net/api/allocate';
const KEY = 'Fk3y/with+odd=chars==';

describe('buildWebhookUrl', () => {
  it('puts the function key into code=, URL-encoded, keeping other parameters', () => {
    const url = buildWebhookUrl({ url: `${BASE}?tenant=a`, functionKey: KEY });
    const parsed = new URL(url);
    expect(parsed.searchParams.get('code')).toBe(KEY);
    expect(parsed.searchParams.get('tenant')).toBe('a');
    expect(url).not.toContain(KEY); // encoded, so that DPS stores one unambiguous URL
  });

  it('keeps a key already in the URL, and accepts the same key given again', () => {
    const withKey = `${BASE}?code=abc123`;
    expect(buildWebhookUrl({ url: withKey })).toBe(withKey);
    expect(buildWebhookUrl({ url: withKey, functionKey: 'abc123' })).toBe(withKey);
  });

  it('refuses a URL without a key, explaining 400209, unless the function is anonymous', () => {
    expect(() => buildWebhookUrl({ url: BASE })).toThrow(UsageError);
    expect(() => buildWebhookUrl({ url: BASE })).toThrow(/400209/);
    expect(buildWebhookUrl({ url: BASE, anonymous: true })).toBe(BASE);
  });

  it('refuses two different keys, duplicated code parameters and malformed keys', () => {
    expect(() => buildWebhookUrl({ url: `${BASE}?code=one`, functionKey: 'two' })).toThrow(/differs/);
    expect(() => buildWebhookUrl({ url: `${BASE}?code=one&Code=two` })).toThrow(/more than one/);
    expect(() => buildWebhookUrl({ url: `${BASE}?code=a&code=b` })).toThrow(/more than one/);
    expect(() => buildWebhookUrl({ url: BASE, functionKey: 'has space' })).toThrow(/function key/);
    expect(() => buildWebhookUrl({ url: BASE, functionKey: '' })).toThrow(/function key/);
  });

  it('requires https, except http on 127.0.0.1 or localhost', () => {
    expect(() => buildWebhookUrl({ url: 'http://my-app.azurewebsites.net/api/allocate?code=k' })).toThrow(
      /https/,
    );
    expect(() => buildWebhookUrl({ url: 'ftp://127.0.0.1/x?code=k' })).toThrow(/https/);
    expect(buildWebhookUrl({ url: 'http://127.0.0.1:7071/api/allocate?code=k' })).toBe(
      'http://127.0.0.1:7071/api/allocate?code=k',
    );
    expect(buildWebhookUrl({ url: 'http://localhost:7071/api/allocate', anonymous: true })).toBe(
      'http://localhost:7071/api/allocate',
    );
  });

  it('refuses relative URLs, user info and fragments', () => {
    expect(() => buildWebhookUrl({ url: '/api/allocate?code=k' })).toThrow(/absolute URL/);
    expect(() =>
      buildWebhookUrl({ url: 'https://u:p@my-app.azurewebsites.net/api/allocate?code=k' }),
    ).toThrow(/user name/);
    expect(() => buildWebhookUrl({ url: `${BASE}?code=k#frag` })).toThrow(/fragment/);
  });
});

describe('maskWebhookUrl', () => {
  it('masks every code parameter whatever its case and keeps the rest', () => {
    expect(maskWebhookUrl(`${BASE}?code=s3cret`)).toBe(`${BASE}?code=***`);
    expect(maskWebhookUrl(`${BASE}?a=1&Code=s3cret&b=2`)).toBe(`${BASE}?a=1&Code=***&b=2`);
    expect(maskWebhookUrl(BASE)).toBe(BASE);
  });

  it('masks an encoded key and never returns any of its characters', () => {
    const url = buildWebhookUrl({ url: BASE, functionKey: KEY });
    const masked = maskWebhookUrl(url);
    expect(masked).toBe(`${BASE}?code=***`);
  });

  it('keeps only what precedes the query of a text that is not a URL', () => {
    expect(maskWebhookUrl('not a url?code=s3cret')).toBe('not a url?***');
  });
});

describe('hasFunctionKey and sameWebhookUrl', () => {
  it('finds code= in any case', () => {
    expect(hasFunctionKey(`${BASE}?CODE=x`)).toBe(true);
    expect(hasFunctionKey(`${BASE}?codex=x`)).toBe(false);
  });

  it('compares URLs after normalisation', () => {
    expect(sameWebhookUrl('https://My-App.azurewebsites.net:443/api/allocate?code=k', `${BASE}?code=k`)).toBe(
      true,
    );
    expect(sameWebhookUrl(`${BASE}?code=k1`, `${BASE}?code=k2`)).toBe(false);
  });
});
