// Error answers of the emulator: the DPS body `{errorCode, trackingId, message, timestampUtc}` plus the
// `x-ms-error-code` header (docs/dps-contract.md §2.4). Which numeric codes are confirmed is noted
// per constant.
import { randomUUID } from 'node:crypto';

export const ErrorCodes = {
  /** Invalid argument / bad body (confirmed, MicrosoftDocs/azure-docs#17690). */
  invalidArgument: 400004,
  /** Unauthorized: bad or expired SAS, unknown policy (confirmed on the device API: 401002). */
  unauthorized: 401002,
  /** Enrollment not found (confirmed for the device API by the C# e2e tests; reused for the service API). */
  enrollmentNotFound: 404201,
  /** Registration state not found: 404202 is seen on the service API, its meaning is UNCONFIRMED. */
  registrationNotFound: 404202,
  /** No such route (emulator choice). */
  routeNotFound: 404000,
  /** Method not allowed on a known path (emulator choice; DPS documents HTTP 405 only). */
  methodNotAllowed: 405000,
  /** ETag mismatch (HTTP 412 is documented; the numeric code is the IoT Hub one, UNCONFIRMED for DPS). */
  /** The enrollment exists already (a bulk `create`); the numeric code is UNCONFIRMED. */
  conflict: 409001,
  preconditionFailed: 412002,
  /** Request body too large (emulator choice; DPS documents a 96 KB message limit). */
  payloadTooLarge: 413000,
  /** Throttled (IoT Hub's code; UNCONFIRMED for DPS, docs/dps-contract.md §5). */
  throttled: 429001,
  /** Internal error (IoT Hub's code, used by fault plans). */
  internalServerError: 500001,
  /** Service unavailable (IoT Hub's code, used by fault plans). */
  serviceUnavailable: 503001,
  /** Custom allocation webhook answered another status, timed out or named a hub outside linkedHubs. */
  customAllocationFailed: 400207,
  /** Custom allocation webhook answered 200 without an IoT hub. */
  customAllocationIotHubNotSpecified: 400208,
  /** Custom allocation webhook answered 401. */
  customAllocationUnauthorizedAccess: 400209,
} as const;

export interface ErrorBody {
  errorCode: number;
  trackingId: string;
  message: string;
  timestampUtc: string;
}

/** An error that becomes an HTTP answer; `message` must never carry a secret. */
export class EmulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'EmulatorHttpError';
  }

  toBody(): ErrorBody {
    return {
      errorCode: this.errorCode,
      trackingId: randomUUID(),
      message: this.message,
      timestampUtc: new Date().toISOString(),
    };
  }
}

export function badRequest(message: string): EmulatorHttpError {
  return new EmulatorHttpError(400, ErrorCodes.invalidArgument, message);
}

export function unauthorized(message = 'Unauthorized'): EmulatorHttpError {
  return new EmulatorHttpError(401, ErrorCodes.unauthorized, message);
}

export function preconditionFailed(message: string): EmulatorHttpError {
  return new EmulatorHttpError(412, ErrorCodes.preconditionFailed, message);
}
