// What the app's read-only JSON APIs (the audit's and the decision log's) share: query parameters validated by a
// zod schema (a 400 names the parameter; unknown or repeated ones are refused), Cache-Control no-store, and every
// expected failure turned into a JSON answer without internals (storage trouble: a 503 with Retry-After).
import type { z } from 'zod';
import { redactSecrets } from '../dps/redact';
import { SettingsError } from '../settings';
import { AuditConfigurationError } from './connection';
import { AuditQueryError } from './queries';
import { firstIssue } from './query-input';
import { AuditStorageError } from './store';

/** The parts of an @azure/functions HttpRequest the APIs read. */
export interface JsonApiRequest {
  url: string;
  query: URLSearchParams;
  params: Record<string, string>;
}

/** Assignable to @azure/functions HttpResponseInit. */
export interface JsonApiResponse {
  status: number;
  jsonBody: unknown;
  headers: Record<string, string>;
}

/** The InvocationContext log methods the APIs use. */
export interface JsonApiLog {
  warn(message: string): void;
  error(message: string): void;
}

/** Seconds a client should wait after a 503. */
const RETRY_AFTER_SECONDS = 30;
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

export function respond(
  status: number,
  jsonBody: unknown,
  headers: Record<string, string> = {},
): JsonApiResponse {
  return { status, jsonBody, headers: { 'Cache-Control': 'no-store', ...headers } };
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

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactSecrets(text.replace(/\s*\n\s*/g, ' '));
}

/** How an API names itself and its data in logs and error answers. */
export interface JsonApiNames {
  /** Log prefix, e.g. `Audit API`. */
  api: string;
  /** The 503's message, e.g. `The audit tables cannot be read right now; try again later.` */
  unavailable: string;
  /** The 500's prefix when settings are missing, e.g. `The audit is not configured`. */
  notConfigured: string;
}

/** Runs a handler's work; every expected failure becomes a JSON answer without internals. */
export async function answer(
  names: JsonApiNames,
  log: JsonApiLog,
  work: () => Promise<JsonApiResponse>,
): Promise<JsonApiResponse> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BadParameter) {
      return respond(400, { error: error.message, parameter: error.parameter });
    }
    if (error instanceof AuditQueryError) return respond(400, { error: error.message });
    if (error instanceof AuditStorageError) {
      log.warn(`${names.api}: ${describe(error)}`);
      return respond(
        503,
        { error: names.unavailable, retryable: true },
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    }
    if (error instanceof AuditConfigurationError || error instanceof SettingsError) {
      log.error(`${names.api}: ${describe(error)}`);
      return respond(500, { error: `${names.notConfigured}: ${describe(error.message)}`, retryable: false });
    }
    log.error(`${names.api}: unexpected ${describe(error)}`);
    return respond(500, { error: 'Internal error.', retryable: false });
  }
}
