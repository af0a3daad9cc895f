// A device identity as a client writes it (Devices - Create Or Update Identity): status, authentication and
// capabilities, checked so that bad input is a clear 400. Server-managed fields (etag, generationId, times,
// connection state) are ignored, as IoT Hub ignores them.
import { AUTHENTICATION_TYPES, type HubAuthenticationType, type HubDeviceStatus } from './device-record';
import { hubBadRequest } from './errors';

export interface IdentityWrite {
  status: HubDeviceStatus;
  statusReason: string | undefined;
  authenticationType: HubAuthenticationType;
  /** Undefined: generated on create, kept on update of a `sas` device (emulator choice). */
  primaryKey: string | undefined;
  secondaryKey: string | undefined;
  primaryThumbprint: string | undefined;
  secondaryThumbprint: string | undefined;
  iotEdge: boolean;
}

const THUMBPRINT = /^(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/;

function record(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw hubBadRequest(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw hubBadRequest(`${what} must be a string`);
  return value;
}

/** A symmetric key must be base64 of 16 to 64 bytes (the identity registry page). */
function symmetricKey(value: unknown, what: string): string | undefined {
  const key = optionalString(value, what);
  if (key === undefined) return undefined;
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(key) ? Buffer.from(key, 'base64').length : 0;
  if (bytes < 16 || bytes > 64) throw hubBadRequest(`${what} must be base64 of 16 to 64 bytes`);
  return key;
}

function thumbprint(value: unknown, what: string): string | undefined {
  const print = optionalString(value, what);
  if (print !== undefined && !THUMBPRINT.test(print)) {
    throw hubBadRequest(`${what} must be a SHA-1 or SHA-256 thumbprint in hex (40 or 64 characters)`);
  }
  return print?.toUpperCase();
}

/** Parses a PUT body for device `deviceId`; its own `deviceId`, when given, must be the same. */
export function parseIdentityWrite(body: unknown, deviceId: string): IdentityWrite {
  const device = record(body, 'The body');
  if (!device) throw hubBadRequest('A device identity body is required: {"deviceId": "...", ...}');
  if (device.deviceId !== undefined && device.deviceId !== deviceId) {
    throw hubBadRequest('deviceId in the body does not match the device id in the URL');
  }
  const status = device.status ?? 'enabled';
  if (status !== 'enabled' && status !== 'disabled')
    throw hubBadRequest("status must be 'enabled' or 'disabled'");
  const authentication = record(device.authentication, 'authentication') ?? {};
  const keys = record(authentication.symmetricKey, 'authentication.symmetricKey') ?? {};
  const prints = record(authentication.x509Thumbprint, 'authentication.x509Thumbprint') ?? {};
  const primaryThumbprint = thumbprint(prints.primaryThumbprint, 'primaryThumbprint');
  const type = authentication.type ?? (primaryThumbprint ? 'selfSigned' : 'sas');
  if (!(AUTHENTICATION_TYPES as readonly unknown[]).includes(type)) {
    throw hubBadRequest(`authentication.type must be one of ${AUTHENTICATION_TYPES.join(', ')}`);
  }
  const authenticationType = type as HubAuthenticationType;
  if (authenticationType === 'selfSigned' && !primaryThumbprint) {
    throw hubBadRequest('A selfSigned device needs authentication.x509Thumbprint.primaryThumbprint');
  }
  const capabilities = record(device.capabilities, 'capabilities') ?? {};
  if (capabilities.iotEdge !== undefined && typeof capabilities.iotEdge !== 'boolean') {
    throw hubBadRequest('capabilities.iotEdge must be a boolean');
  }
  const sas = authenticationType === 'sas';
  const selfSigned = authenticationType === 'selfSigned';
  return {
    status,
    statusReason: optionalString(device.statusReason, 'statusReason')?.slice(0, 128),
    authenticationType,
    primaryKey: sas ? symmetricKey(keys.primaryKey, 'primaryKey') : undefined,
    secondaryKey: sas ? symmetricKey(keys.secondaryKey, 'secondaryKey') : undefined,
    primaryThumbprint: selfSigned ? primaryThumbprint : undefined,
    secondaryThumbprint: selfSigned
      ? thumbprint(prints.secondaryThumbprint, 'secondaryThumbprint')
      : undefined,
    iotEdge: capabilities.iotEdge === true,
  };
}
