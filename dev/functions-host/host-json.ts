import fs from 'node:fs';

export const DEFAULT_ROUTE_PREFIX = 'api';

/** `extensions.http.routePrefix` from host.json ('api' when the file or the setting is absent). */
export function readRoutePrefix(hostJsonFile: string): string {
  let text: string;
  try {
    text = fs.readFileSync(hostJsonFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_ROUTE_PREFIX;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new Error(`${hostJsonFile} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const prefix = (json as { extensions?: { http?: { routePrefix?: unknown } } } | null)?.extensions?.http
    ?.routePrefix;
  if (prefix === undefined) return DEFAULT_ROUTE_PREFIX;
  if (typeof prefix !== 'string')
    throw new Error(`${hostJsonFile}: extensions.http.routePrefix must be a string.`);
  return normalizeRoutePrefix(prefix);
}

export function normalizeRoutePrefix(prefix: string): string {
  return prefix.trim().replace(/^\/+|\/+$/g, '');
}
