// Values derived from a candidate array, computed once per array: the engine reuses one (frozen) array per
// distinct linkedHubs, so a decision looks its derived values up instead of rebuilding them.

export function memoizeByArray<T>(derive: (among: readonly string[]) => T): (among: readonly string[]) => T {
  const cache = new WeakMap<readonly string[], T>();
  // Most requests bring the same linkedHubs as the one before: one comparison instead of a WeakMap lookup.
  let lastArray: readonly string[] | undefined;
  let lastValue: T | undefined;
  return (among) => {
    if (among === lastArray) return lastValue!;
    let value = cache.get(among);
    if (value === undefined) {
      value = derive(among);
      cache.set(among, value);
    }
    lastArray = among;
    lastValue = value;
    return value;
  };
}
