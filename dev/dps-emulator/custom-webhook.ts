// Custom allocation as DPS does it (docs/dps-contract.md §1): the AllocationRequest body POSTed to the
// enrollment's webhookUrl, the >= 429 retry schedule, and the mapping of the webhook's answer to an
// assignment or to a failed registration (400207 / 400208 / 400209).
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { EnrollmentGroup, IndividualEnrollment, InitialTwin } from '../../src/dps/schemas';
import { initialTwinSchema } from '../../src/dps/schemas';
import type { AllocationResult } from './allocation';
import { ErrorCodes } from './errors';
import type { X509CertificateInfo } from './x509-info';

export interface WebhookRetrySchedule {
  /** Retries after the first attempt. DPS: 10. */
  retries: number;
  /** Delay before the first retry. DPS: 1 s. */
  initialDelayMs: number;
  /** Added to the delay for each further retry. DPS: 9 s. */
  incrementMs: number;
}

/** DPS's documented schedule for webhook answers >= 429: 10 retries, 1 s initial, +9 s increments. */
export const DPS_WEBHOOK_RETRY: WebhookRetrySchedule = {
  retries: 10,
  initialDelayMs: 1000,
  incrementMs: 9000,
};

export interface WebhookSettings {
  /** Per attempt. DPS's own timeout is UNCONFIRMED (docs/dps-contract.md §6). */
  timeoutMs: number;
  retry: WebhookRetrySchedule;
  /** The emulator only calls loopback webhooks unless this is set: tests must never reach the network. */
  allowNonLoopback: boolean;
}

export type AttestationContext =
  | { type: 'symmetricKey' }
  | {
      type: 'x509';
      certificateInfo: X509CertificateInfo;
      signingCertificateInfo: X509CertificateInfo | undefined;
      enrollmentGroupId: string | undefined;
    }
  | { type: 'tpm'; endorsementKey: string; storageRootKey?: string | null };

export interface AllocationRequestInput {
  enrollment: { kind: 'group'; value: EnrollmentGroup } | { kind: 'individual'; value: IndividualEnrollment };
  registrationId: string;
  attestation: AttestationContext;
  payload: unknown;
  currentHub: string | undefined;
  currentDeviceId: string | undefined;
  linkedHubs: string[];
}

/** `https://host/api/fn?code=secret` -> `https://host/api/fn?****`, as DPS echoes it. */
export function maskWebhookUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return url.split('#', 1)[0]!;
  return `${url.slice(0, queryStart)}?****`;
}

/** The enrollment as DPS echoes it to the webhook: no keys (attestation is just its type), URL masked. */
export function echoEnrollment<T extends EnrollmentGroup | IndividualEnrollment>(enrollment: T): T {
  const echo: Record<string, unknown> = { ...enrollment, attestation: { type: enrollment.attestation.type } };
  delete echo.registrationState;
  const definition = enrollment.customAllocationDefinition;
  if (definition) {
    echo.customAllocationDefinition = { ...definition, webhookUrl: maskWebhookUrl(definition.webhookUrl) };
  }
  return echo as T;
}

/**
 * DeviceRegistrationResult.x509 (REST spec, device.json), which the emulator also sends as the webhook's
 * `deviceRuntimeContext.x509`: DPS documents that only as "X.509 attestation, contains certificate details"
 * (UNCONFIRMED, docs/dps-contract.md §1.2).
 */
export function x509ContextOf(
  attestation: Extract<AttestationContext, { type: 'x509' }>,
): Record<string, unknown> {
  return {
    certificateInfo: attestation.certificateInfo,
    ...(attestation.enrollmentGroupId === undefined
      ? {}
      : { enrollmentGroupId: attestation.enrollmentGroupId }),
    ...(attestation.signingCertificateInfo === undefined
      ? {}
      : { signingCertificateInfo: attestation.signingCertificateInfo }),
  };
}

export function buildAllocationRequest(input: AllocationRequestInput): Record<string, unknown> {
  const context: Record<string, unknown> = { registrationId: input.registrationId };
  if (input.currentHub !== undefined) {
    context.currentIotHubHostName = input.currentHub;
    context.currentDeviceId = input.currentDeviceId ?? input.registrationId;
  }
  if (input.attestation.type === 'symmetricKey') context.symmetricKey = {};
  else if (input.attestation.type === 'x509') context.x509 = x509ContextOf(input.attestation);
  else {
    context.tpm = {
      endorsementKey: input.attestation.endorsementKey,
      ...(input.attestation.storageRootKey ? { storageRootKey: input.attestation.storageRootKey } : {}),
    };
  }
  if (input.payload !== undefined && input.payload !== null) context.payload = input.payload;
  const enrollmentField = input.enrollment.kind === 'group' ? 'enrollmentGroup' : 'individualEnrollment';
  return {
    [enrollmentField]: echoEnrollment(input.enrollment.value),
    deviceRuntimeContext: context,
    linkedHubs: input.linkedHubs,
  };
}

export interface WebhookCallResult {
  outcome: AllocationResult;
  /** HTTP status of every attempt (0 = no answer). */
  attemptStatuses: number[];
}

export interface WebhookCallDeps {
  dispatcher: Dispatcher;
  sleep: (ms: number) => Promise<void>;
}

function failed(errorCode: number, errorMessage: string): AllocationResult {
  return { kind: 'failed', errorCode, errorMessage };
}

function statusFailure(status: number): AllocationResult {
  return failed(ErrorCodes.customAllocationFailed, `Custom allocation failed with status code: ${status}`);
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Maps a 200 answer to an assignment, or to the failure DPS records for it. */
export function interpretSuccessBody(bodyText: string, linkedHubs: readonly string[]): AllocationResult {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  if (!isJsonObject(body)) {
    return failed(
      ErrorCodes.customAllocationFailed,
      'Custom allocation failed: the webhook answered 200 with a body that is not a JSON object',
    );
  }
  const hub = body.iotHubHostName;
  if (hub === undefined || hub === null || hub === '') {
    return failed(
      ErrorCodes.customAllocationIotHubNotSpecified,
      'Custom allocation failed: the webhook did not specify an IoT hub (iotHubHostName)',
    );
  }
  if (typeof hub !== 'string') {
    return failed(
      ErrorCodes.customAllocationFailed,
      'Custom allocation failed: iotHubHostName is not a string',
    );
  }
  const linked = linkedHubs.find((candidate) => candidate.toLowerCase() === hub.toLowerCase());
  if (linked === undefined) {
    return failed(
      ErrorCodes.customAllocationFailed,
      `Custom allocation failed: the webhook chose IoT hub '${hub.slice(0, 200)}', which is not in linkedHubs`,
    );
  }
  const payload = body.payload;
  if (payload !== undefined && payload !== null && !isJsonObject(payload)) {
    return failed(
      ErrorCodes.customAllocationFailed,
      'Custom allocation failed: payload must be a JSON object',
    );
  }
  let initialTwin: InitialTwin | undefined;
  if (body.initialTwin !== undefined && body.initialTwin !== null) {
    const parsed = initialTwinSchema.safeParse(body.initialTwin);
    if (!parsed.success || !isJsonObject(body.initialTwin)) {
      return failed(ErrorCodes.customAllocationFailed, 'Custom allocation failed: initialTwin is malformed');
    }
    initialTwin = parsed.data;
  }
  return {
    kind: 'assigned',
    hub: linked,
    initialTwin,
    payload: isJsonObject(payload) ? payload : undefined,
  };
}

/** Outcome of one attempt: a final outcome, or `retry` for a status >= 429. */
async function attempt(
  url: URL,
  body: string,
  linkedHubs: readonly string[],
  settings: WebhookSettings,
  deps: WebhookCallDeps,
): Promise<{ status: number; outcome: AllocationResult | 'retry' }> {
  let status: number;
  let text: string;
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
      body,
      dispatcher: deps.dispatcher,
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    // Duck-typed: the abort reason is a DOMException, which is not always `instanceof Error` (other realms).
    const name = (error as { name?: unknown } | undefined)?.name;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    const reason = timedOut
      ? `the webhook did not answer within ${settings.timeoutMs} ms`
      : `the webhook could not be reached (${(error as { code?: string }).code ?? 'connection error'})`;
    return {
      status: 0,
      outcome: failed(ErrorCodes.customAllocationFailed, `Custom allocation failed: ${reason}`),
    };
  }
  if (status === 200) return { status, outcome: interpretSuccessBody(text, linkedHubs) };
  if (status === 401) {
    return {
      status,
      outcome: failed(
        ErrorCodes.customAllocationUnauthorizedAccess,
        'Custom allocation failed with status code: 401',
      ),
    };
  }
  if (status >= 429) return { status, outcome: 'retry' };
  return { status, outcome: statusFailure(status) };
}

/** Calls the webhook with DPS's retry schedule for answers >= 429 and maps the final answer. */
export async function callAllocationWebhook(
  webhookUrl: string,
  requestBody: Record<string, unknown>,
  linkedHubs: readonly string[],
  settings: WebhookSettings,
  deps: WebhookCallDeps,
): Promise<WebhookCallResult> {
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    return {
      outcome: failed(ErrorCodes.customAllocationFailed, 'Custom allocation failed: invalid webhookUrl'),
      attemptStatuses: [],
    };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      outcome: failed(
        ErrorCodes.customAllocationFailed,
        'Custom allocation failed: webhookUrl must be http(s)',
      ),
      attemptStatuses: [],
    };
  }
  if (!settings.allowNonLoopback && !isLoopbackHost(url.hostname)) {
    return {
      outcome: failed(
        ErrorCodes.customAllocationFailed,
        'Custom allocation failed: the emulator only calls webhooks on loopback (see allowNonLoopbackWebhooks)',
      ),
      attemptStatuses: [],
    };
  }
  const body = JSON.stringify(requestBody);
  const attemptStatuses: number[] = [];
  for (let retry = 0; ; retry++) {
    const { status, outcome } = await attempt(url, body, linkedHubs, settings, deps);
    attemptStatuses.push(status);
    if (outcome !== 'retry') return { outcome, attemptStatuses };
    if (retry >= settings.retry.retries) return { outcome: statusFailure(status), attemptStatuses };
    await deps.sleep(settings.retry.initialDelayMs + retry * settings.retry.incrementMs);
  }
}
