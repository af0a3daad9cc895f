// Error answers of the IoT hub emulator, in IoT Hub's shape: `{"Message": "ErrorCode:<code>;<text>",
// "ExceptionMessage": "Tracking ID:...-G:0-TimeStamp:..."}` plus the `iothub-errorcode` header. The official Node SDK
// reads the code and the text out of `Message` (azure-iothub's RestApiClient.translateError; docs/dps-contract.md §9.2).
import { randomUUID } from 'node:crypto';

/** The IoT Hub error codes the emulator answers with (names as IoT Hub writes them in `Message`). */
export const HubErrorCodes = {
  argumentInvalid: 'ArgumentInvalid',
  invalidProtocolVersion: 'InvalidProtocolVersion',
  unauthorized: 'IotHubUnauthorizedAccess',
  deviceNotFound: 'DeviceNotFound',
  iotHubNotFound: 'IotHubNotFound',
  /** No such route (emulator choice). */
  notFound: 'NotFound',
  methodNotAllowed: 'MethodNotAllowed',
  deviceAlreadyExists: 'DeviceAlreadyExists',
  preconditionFailed: 'PreconditionFailed',
  requestTooLarge: 'RequestEntityTooLarge',
  serverError: 'ServerError',
} as const;

export type HubErrorCode = (typeof HubErrorCodes)[keyof typeof HubErrorCodes];

export interface HubErrorBody {
  Message: string;
  ExceptionMessage: string;
}

/** `MM/DD/YYYY HH:MM:SS`, in UTC, as IoT Hub's tracking ids carry it. */
function trackingTimestamp(now: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${two(now.getUTCMonth() + 1)}/${two(now.getUTCDate())}/${now.getUTCFullYear()} ` +
    `${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())}`
  );
}

/** An error that becomes an IoT Hub error answer; `message` must never carry a secret. */
export class HubHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HubHttpError';
  }

  toBody(now = new Date()): HubErrorBody {
    return {
      Message: `ErrorCode:${this.code};${this.message}`,
      ExceptionMessage: `Tracking ID:${randomUUID().replace(/-/g, '')}-G:0-TimeStamp:${trackingTimestamp(now)}`,
    };
  }
}

export function hubBadRequest(message: string): HubHttpError {
  return new HubHttpError(400, HubErrorCodes.argumentInvalid, message);
}

export function hubUnauthorized(message = 'Unauthorized'): HubHttpError {
  return new HubHttpError(401, HubErrorCodes.unauthorized, message);
}

export function deviceNotFound(deviceId: string): HubHttpError {
  return new HubHttpError(404, HubErrorCodes.deviceNotFound, `Device '${deviceId.slice(0, 128)}' not found`);
}

export function hubPreconditionFailed(message: string): HubHttpError {
  return new HubHttpError(412, HubErrorCodes.preconditionFailed, message);
}
