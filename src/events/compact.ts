// Kept apart from the catalog: allocate builds events without loading the catalog's schemas.

/** Drops undefined members: the wire has no undefined, and equal events compare equal. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
