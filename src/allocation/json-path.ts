// Dotted paths ("model.id") into JSON values, as used by payload conditions and templates.

export type JsonPath = readonly string[];

export function parseDottedPath(path: string): JsonPath {
  return path.split('.');
}

/** The value at `path`, or undefined when any step is missing or not an object. */
export function valueAt(root: unknown, path: JsonPath): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
