// Shared by the IoT hub emulator tests: a fast DPS emulator (its linked hubs are the emulated hubs), the official
// Registry for a hub, raw HTTPS calls to the hub port, and the SDK's error of a rejected call.
import { Agent, buildConnector, request } from 'undici';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { createSdkRegistry, type SdkRegistryOptions } from '../../../dev/iot-hub-emulator/sdk-clients';

export {
  HUB_A,
  HUB_B,
  HUB_C,
  emulatorDispatcher,
  startTestEmulator,
  testKey,
} from '../dps-emulator/support/emulator';

export function registryFor(emulator: DpsEmulator, hubHostName: string, options?: SdkRegistryOptions) {
  return createSdkRegistry(emulator, hubHostName, options);
}

/** The error a promise rejects with (the test fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { responseBody?: string }> {
  return promise.then(
    () => {
      throw new Error('the call should have been refused');
    },
    (error: Error & { responseBody?: string }) => error,
  );
}

/**
 * An undici agent for the hub port: undici checks the certificate against the Host header's name, so its connector
 * is given the name the emulator's certificate carries.
 */
export function hubDispatcher(emulator: DpsEmulator): Agent {
  const connector = buildConnector({ ca: emulator.caCertificatePem });
  return new Agent({
    connect: (options, callback) => connector({ ...options, servername: 'localhost' }, callback),
  });
}

export interface RawHubResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/** A raw HTTPS call to the hub port, with the Host header naming `host`. */
export async function rawHubCall(
  emulator: DpsEmulator,
  dispatcher: Agent,
  host: string,
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE',
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawHubResponse> {
  const response = await request(`${emulator.hubEndpoint}${path}`, {
    method,
    headers: { host, ...options.headers },
    body: options.body,
    dispatcher,
  });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, json };
}
