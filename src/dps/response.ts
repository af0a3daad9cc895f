// Reading DPS responses: headers, JSON bodies and their zod validation, each failure as a typed error.
import { z } from 'zod';
import { DpsTransientError, DpsValidationError } from './errors';
import type { DpsHttpResponse } from './http';

/** First value of a response header; an empty value counts as absent. */
export function responseHeader(response: DpsHttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === '' ? undefined : first;
}

function parseJson(operation: string, response: DpsHttpResponse): unknown {
  try {
    return JSON.parse(response.bodyText);
  } catch {
    // A 2xx with a cut-off or garbled body is a transport fault: worth another attempt.
    throw new DpsTransientError(
      `DPS ${operation} returned HTTP ${response.status} with a truncated or invalid JSON body`,
      { operation, status: response.status, retryable: true },
    );
  }
}

/** The JSON body checked against `schema` (unknown fields kept); DpsValidationError when it does not match. */
export function readBody<S extends z.ZodType>(
  operation: string,
  schema: S,
  response: DpsHttpResponse,
): z.infer<S> {
  const result = schema.safeParse(parseJson(operation, response));
  if (result.success) return result.data;
  const issues = z.prettifyError(result.error).slice(0, 1000);
  throw new DpsValidationError(`DPS ${operation} returned a body that does not match its schema: ${issues}`, {
    operation,
    status: response.status,
  });
}
