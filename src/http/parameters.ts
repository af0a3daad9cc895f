// Query parameters of the JSON APIs, validated by a zod schema: a bad value is a 400 that names the parameter;
// unknown and repeated parameters are refused too, so a typo never silently widens a query.
import type { z } from 'zod';
import { firstIssue } from './inputs';

/** Query parameters the Functions host consumes: `code` is the function key. */
export const HOST_PARAMETERS: ReadonlySet<string> = new Set(['code']);

export class BadParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

/** The query parameters, validated by `schema`; unknown or repeated parameters are refused too. */
export function readParameters<S extends z.ZodObject>(query: URLSearchParams, schema: S): z.infer<S> {
  const known = Object.keys(schema.shape);
  const values: Record<string, string> = {};
  for (const [name, value] of query) {
    if (HOST_PARAMETERS.has(name)) continue;
    const shown = name.slice(0, 100);
    if (!known.includes(name)) {
      const expected =
        known.length > 0 ? `; known parameters: ${known.join(', ')}` : '; it takes no parameters';
      throw new BadParameter(shown, `unknown parameter '${shown}'${expected}`);
    }
    if (name in values) throw new BadParameter(name, `${name} is given more than once`);
    values[name] = value;
  }
  return parseInput(schema, values);
}

export function parseInput<S extends z.ZodType>(schema: S, values: unknown): z.infer<S> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const { name, message } = firstIssue(parsed.error);
  throw new BadParameter(name, `${name} ${message}`);
}
