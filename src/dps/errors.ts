// Typed errors of the DPS client. Messages are built from redacted text only: never a header, key or token.
import { redactSecrets } from './redact';
import { provisioningErrorSchema } from './schemas';

export interface DpsErrorDetails {
  /** Client operation, e.g. `getEnrollmentGroup`. */
  operation: string;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** DPS error code from the body (`errorCode` or `code`) or the `x-ms-error-code` header. */
  errorCode?: number | string;
  trackingId?: string;
  /** Whether the client may retry the call (429, 5xx, network faults, unreadable 2xx bodies). */
  retryable?: boolean;
  /** Wait the server asked for (`Retry-After`), in milliseconds. */
  retryAfterMs?: number;
  /** Attempts made before giving up; set by the retry loop. */
  attempts?: number;
  cause?: unknown;
}

/** Base class of every error the DPS client throws. */
export class DpsError extends Error {
  readonly operation: string;
  readonly status: number | undefined;
  readonly errorCode: number | string | undefined;
  readonly trackingId: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  attempts: number;

  constructor(message: string, details: DpsErrorDetails) {
    super(redactSecrets(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.operation = details.operation;
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.trackingId = details.trackingId;
    this.retryable = details.retryable ?? false;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts ?? 1;
  }
}

/** 404: the enrollment, group or registration does not exist. */
export class DpsNotFoundError extends DpsError {}
/** 412: the `If-Match` etag no longer matches. */
export class DpsPreconditionFailedError extends DpsError {}
/** 401/403, or no credential/token could be obtained. */
export class DpsUnauthorizedError extends DpsError {}
/** 429: over the DPS operations quota. */
export class DpsThrottledError extends DpsError {}
/** 5xx, connection failures, timeouts, truncated or unparseable 2xx bodies. */
export class DpsTransientError extends DpsError {}
/** A 2xx response whose body does not match the expected schema. */
export class DpsValidationError extends DpsError {}

/** The response parts an error is built from. */
export interface FailedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bodyText: string;
}

function firstHeader(headers: FailedResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// DPS codes are numbers (404204); a numeric string from a header or `code` becomes one so callers compare once.
function normalizeErrorCode(code: number | string | undefined): number | string | undefined {
  return typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : code;
}

function parseErrorBody(bodyText: string): {
  errorCode?: number | string;
  trackingId?: string;
  message?: string;
} {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return {};
  }
  const parsed = provisioningErrorSchema.safeParse(json);
  if (!parsed.success) return {};
  const body = parsed.data;
  return {
    errorCode: body.errorCode ?? body.code ?? undefined,
    trackingId: body.trackingId ?? undefined,
    message: body.message ?? undefined,
  };
}

/** Maps a non-2xx response to the matching typed error. */
export function errorFromResponse(
  operation: string,
  response: FailedResponse,
  retryAfterMs: number | undefined,
): DpsError {
  const { status, headers } = response;
  const body = parseErrorBody(response.bodyText);
  const errorCode = normalizeErrorCode(body.errorCode ?? firstHeader(headers, 'x-ms-error-code'));
  const trackingId = body.trackingId;
  const parts = [`HTTP ${status}`];
  if (errorCode !== undefined) parts.push(`errorCode ${errorCode}`);
  if (trackingId !== undefined) parts.push(`trackingId ${trackingId}`);
  const detail = body.message ? `: ${body.message.slice(0, 500)}` : '';
  const message = `DPS ${operation} failed (${parts.join(', ')})${detail}`;
  const details: DpsErrorDetails = { operation, status, errorCode, trackingId };

  if (status === 404) return new DpsNotFoundError(message, details);
  if (status === 412) return new DpsPreconditionFailedError(message, details);
  if (status === 401 || status === 403) return new DpsUnauthorizedError(message, details);
  if (status === 429) return new DpsThrottledError(message, { ...details, retryable: true, retryAfterMs });
  if (status >= 500) return new DpsTransientError(message, { ...details, retryable: true, retryAfterMs });
  return new DpsError(message, details);
}
