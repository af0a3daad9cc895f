// A minimal DPS device for load generation (docs/dps-contract.md §4): PUT register, then GET the operation
// until it is done, waiting what retry-after says. No SDK, one shared keep-alive pool: the figures then show
// the emulator and the webhook rather than the device client. registerLeanOnOwnConnection is the same device on a
// TLS connection of its own, as a device that connects, registers and goes away: symmetric key (SAS token) or
// X.509 (the device certificate in the TLS handshake authenticates it; no Authorization header).
import type { SecureContext } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, type Dispatcher } from 'undici';
import { buildDeviceSasToken } from '../../src/dps/sas';

export const DEVICE_API_VERSION = '2021-06-01';
/** A registration that is still assigning after this long counts as failed. */
const REGISTRATION_TIMEOUT_MS = 60_000;

export interface LeanDevice {
  idScope: string;
  registrationId: string;
  /**
   * The device's symmetric key (for a group member: derived from the group key); none for an X.509 device, whose
   * client certificate (in the connection's TLS context) authenticates it.
   */
  deviceKey?: string;
  payload?: Record<string, unknown>;
}

export interface LeanRegistration {
  status: string;
  assignedHub: string | undefined;
  errorCode: number | undefined;
  errorMessage: string | undefined;
  /** HTTP requests this registration took: the PUT and every operation GET. */
  requests: number;
}

interface OperationAnswer {
  operationId?: string;
  status?: string;
  registrationState?: { assignedHub?: string; errorCode?: number; errorMessage?: string };
}

/** A non-2xx answer of the device API: status and DPS error code only (the body never carries secrets). */
export class DeviceApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number | undefined,
  ) {
    super(`HTTP ${status}${errorCode === undefined ? '' : ` (${errorCode})`}`);
  }
}

async function send(
  dispatcher: Dispatcher,
  method: 'PUT' | 'GET',
  path: string,
  authorization: string | undefined,
  body?: string,
): Promise<{ answer: OperationAnswer; retryAfterMs: number; status: number }> {
  const response = await dispatcher.request({
    method,
    path,
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    },
    body,
  });
  const text = await response.body.text();
  const parsed = text ? (JSON.parse(text) as OperationAnswer & { errorCode?: number }) : {};
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw new DeviceApiError(response.statusCode, parsed.errorCode);
  }
  const retryAfter = Number(response.headers['retry-after'] ?? 0);
  return {
    answer: parsed,
    status: response.statusCode,
    retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : 0,
  };
}

/**
 * Registers one device through `dispatcher` (a Pool or Client of the emulator's origin) and waits for the outcome;
 * throws DeviceApiError on a non-2xx answer.
 */
export async function registerLean(dispatcher: Dispatcher, device: LeanDevice): Promise<LeanRegistration> {
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const authorization =
    device.deviceKey === undefined
      ? undefined
      : buildDeviceSasToken(device.idScope, device.registrationId, device.deviceKey, expiry);
  const base = `/${encodeURIComponent(device.idScope)}/registrations/${encodeURIComponent(device.registrationId)}`;
  const query = `?api-version=${DEVICE_API_VERSION}`;
  const body = JSON.stringify({ registrationId: device.registrationId, payload: device.payload });
  const deadline = performance.now() + REGISTRATION_TIMEOUT_MS;

  let requests = 1;
  let { answer, retryAfterMs, status } = await send(
    dispatcher,
    'PUT',
    `${base}/register${query}`,
    authorization,
    body,
  );
  const operationId = answer.operationId;
  if (operationId === undefined) throw new Error('the register answer has no operationId');
  while (status === 202) {
    if (performance.now() > deadline) throw new Error(`still assigning after ${REGISTRATION_TIMEOUT_MS} ms`);
    if (retryAfterMs > 0) await delay(retryAfterMs);
    requests++;
    const operationPath = `${base}/operations/${encodeURIComponent(operationId)}${query}`;
    ({ answer, retryAfterMs, status } = await send(dispatcher, 'GET', operationPath, authorization));
  }
  const state = answer.registrationState;
  return {
    status: answer.status ?? 'unknown',
    assignedHub: state?.assignedHub,
    errorCode: state?.errorCode,
    errorMessage: state?.errorMessage,
    requests,
  };
}

/**
 * Registers one device over a TLS connection of its own (a full handshake: a Client per registration that caches no
 * TLS session), closed once the registration is done. `tls` is the device's context: the emulator's CA and, for
 * X.509, the device certificate and key (lean-mqtt-device.ts deviceTlsContext), built once per device.
 */
export async function registerLeanOnOwnConnection(
  origin: string,
  tls: SecureContext,
  device: LeanDevice,
): Promise<LeanRegistration> {
  const client = new Client(origin, { connect: { secureContext: tls, maxCachedSessions: 0 } });
  try {
    return await registerLean(client, device);
  } finally {
    await client.close();
  }
}
