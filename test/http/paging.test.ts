// `next` links: the same query with the next page's token, relative times pinned, never the function key.
import { nextPageLink } from '../../src/http/paging';

describe('nextPageLink', () => {
  const since = new Date('2026-12-01T07:00:00.000Z');

  it('keeps the filters, pins a relative since in place and drops the key and the old token', () => {
    const link = nextPageLink(
      'https://app.example/api/audit?code=secret&status=failed&since=1h&continuationToken=old',
      'next-token',
      { since },
    );
    expect(link).toBe(
      'https://app.example/api/audit?status=failed&since=2026-12-01T07%3A00%3A00.000Z&continuationToken=next-token',
    );
  });

  it('adds a pinned default the request left out, and nothing for an absent one', () => {
    const link = new URL(
      nextPageLink('https://app.example/api/decisions?limit=5', 't', { since, until: undefined }),
    );
    expect([...link.searchParams]).toEqual([
      ['limit', '5'],
      ['since', since.toISOString()],
      ['continuationToken', 't'],
    ]);
  });
});
