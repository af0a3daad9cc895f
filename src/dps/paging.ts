// Continuation-token paging of DPS queries (docs/dps-contract.md §2.2): the results end when a response
// carries no `x-ms-continuation`; a page may be empty and still carry a token.

/** One page of query results and the token that fetches the next one (undefined on the last page). */
export interface Page<T> {
  items: T[];
  continuationToken: string | undefined;
}

/** Fetches the page that `continuationToken` points to (the first page when undefined). */
export type FetchPage<T> = (continuationToken: string | undefined) => Promise<Page<T>>;

/** Yields pages from `startToken` (or the beginning) until a page comes back without a token. */
export async function* iteratePages<T>(
  fetchPage: FetchPage<T>,
  startToken?: string,
): AsyncGenerator<Page<T>, void, undefined> {
  let token = startToken;
  do {
    const page = await fetchPage(token);
    yield page;
    token = page.continuationToken;
  } while (token !== undefined);
}

/** The items of every page, in order. */
export async function* iterateItems<T>(pages: AsyncIterable<Page<T>>): AsyncGenerator<T, void, undefined> {
  for await (const page of pages) yield* page.items;
}
