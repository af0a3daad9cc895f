// The `next` link of a paged JSON answer: the same query, the continuation token of the next page, never the
// function key (it travels in a header or the caller's own URL, not in links we hand out).
import { HOST_PARAMETERS } from './parameters';

/**
 * The URL of the next page. `pinned` holds times the request gave relative to now (`since=1h`) or took by
 * default: they are written as the instants they meant, so that every page covers the same range.
 */
export function nextPageLink(
  requestUrl: string,
  token: string,
  pinned: Readonly<Record<string, Date | undefined>> = {},
): string {
  const url = new URL(requestUrl);
  const query = new URLSearchParams();
  for (const [name, value] of url.searchParams) {
    if (HOST_PARAMETERS.has(name) || name === 'continuationToken') continue;
    const at = Object.hasOwn(pinned, name) ? pinned[name] : undefined;
    query.set(name, at?.toISOString() ?? value);
  }
  for (const [name, at] of Object.entries(pinned)) {
    if (at !== undefined && !query.has(name)) query.set(name, at.toISOString());
  }
  query.set('continuationToken', token);
  url.search = query.toString();
  return url.toString();
}
