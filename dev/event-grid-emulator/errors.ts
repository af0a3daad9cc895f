// Error answers of the topic emulator, in the shape Event Grid documents for publish failures:
// `{"error":{"code":"…","message":"…","details":[{"code":"…","message":"…"}]}}` (docs/events-contract.md §2.3).
// The codes are the HTTP status names (emulator choice: the service's own detail codes are not documented).

export const TopicErrorCodes = {
  badRequest: 'BadRequest',
  unauthorized: 'Unauthorized',
  notFound: 'NotFound',
  methodNotAllowed: 'MethodNotAllowed',
  tooLarge: 'RequestEntityTooLarge',
  serverError: 'InternalServerError',
  unavailable: 'ServiceUnavailable',
} as const;

export type TopicErrorCode = (typeof TopicErrorCodes)[keyof typeof TopicErrorCodes];

export interface TopicErrorBody {
  error: { code: TopicErrorCode; message: string; details: { code: TopicErrorCode; message: string }[] };
}

/** An error that becomes an Event Grid error answer; `message` must never carry a key or token. */
export class TopicHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: TopicErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'TopicHttpError';
  }

  toBody(): TopicErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        details: [{ code: this.code, message: this.message }],
      },
    };
  }
}

export function topicBadRequest(message: string): TopicHttpError {
  return new TopicHttpError(400, TopicErrorCodes.badRequest, message);
}

export function topicUnauthorized(message: string): TopicHttpError {
  return new TopicHttpError(401, TopicErrorCodes.unauthorized, message);
}

export function topicTooLarge(message: string): TopicHttpError {
  return new TopicHttpError(413, TopicErrorCodes.tooLarge, message);
}
