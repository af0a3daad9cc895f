// A failed answer of an IoT hub as one of the client error classes (src/dps/errors.ts), so that the shared retry
// loop (src/dps/retry.ts) treats it as it treats DPS: 429 and 5xx retried, the rest not. IoT Hub names its error in
// the `iothub-errorcode` header and a `Message` body field ("ErrorCode:IotHubUnauthorizedAccess;Unauthorized").
import {
  DpsError,
  DpsNotFoundError,
  DpsThrottledError,
  DpsTransientError,
  DpsUnauthorizedError,
  type DpsErrorDetails,
} from '../dps/errors';
import type { DpsHttpResponse } from '../dps/http';
import { responseHeader } from '../dps/response';

function bodyMessage(bodyText: string): string | undefined {
  try {
    const body = JSON.parse(bodyText) as { Message?: unknown; message?: unknown };
    const message = body.Message ?? body.message;
    return typeof message === 'string' && message !== '' ? message.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/** The typed error of a non-2xx answer; messages are redacted by DpsError. */
export function hubErrorFromResponse(
  operation: string,
  response: DpsHttpResponse,
  retryAfterMs: number | undefined,
): DpsError {
  const { status } = response;
  const errorCode = responseHeader(response, 'iothub-errorcode');
  const detail = bodyMessage(response.bodyText);
  const parts = [`HTTP ${status}`, ...(errorCode === undefined ? [] : [errorCode])];
  const message = `IoT Hub ${operation} failed (${parts.join(', ')})${detail ? `: ${detail}` : ''}`;
  const details: DpsErrorDetails = { operation, status, errorCode };
  if (status === 404) return new DpsNotFoundError(message, details);
  if (status === 401 || status === 403) return new DpsUnauthorizedError(message, details);
  if (status === 429) return new DpsThrottledError(message, { ...details, retryable: true, retryAfterMs });
  if (status >= 500) return new DpsTransientError(message, { ...details, retryable: true, retryAfterMs });
  return new DpsError(message, details);
}
