// The DPS device runtime API (docs/dps-contract.md §4): register (202 + retry-after, then poll the
// operation), operation status and registration status lookup. Devices authenticate with a symmetric-key SAS
// token signed with the individual enrollment key or the key derived from a group key, or, without a token,
// with their TLS client certificate (X.509 attestation, §4.2).
import type { X509Certificate } from 'node:crypto';
import { deriveDeviceKey, parseSasToken } from '../../src/dps/sas';
import { deviceRegistrationSchema } from '../../src/dps/schemas';
import { deviceTokenSignedWith, parseDeviceToken } from './auth';
import type { AttestationContext } from './custom-webhook';
import { x509ContextOf } from './custom-webhook';
import { badRequest, EmulatorHttpError, ErrorCodes, unauthorized } from './errors';
import { assertValidId, decodePathSegment } from './ids';
import type { Operation, OperationTracker } from './operations';
import type { RegistrationInput } from './provisioning';
import type { ConnectionIdentity, HttpAnswer, RequestContext, RouteMatch } from './routing';
import { headerValue, jsonBody, literal, methodNotAllowed, requireApiVersion } from './routing';
import type { EmulatorStore, EnrollmentRef, RegistrationRecord, StoredGroup } from './store';
import { presentRegistrationState } from './store';
import type { ResourceLogSink } from './resource-logs';
import { attestationStability, attestX509, X509Refusal, type X509AttestationDeps } from './x509-attestation';

export interface DeviceApiDeps {
  store: EmulatorStore;
  idScope: string;
  retryAfterSeconds: () => number;
  operations: OperationTracker;
  nowSeconds: () => number;
  /** Runs a registration to its final state (see provisioning.ts). */
  runRegistration: (input: RegistrationInput, record: RegistrationRecord) => Promise<void>;
  /** Verified CA certificates by name, as enrollment groups' `caReferences` name them. */
  verifiedCertificate: (name: string) => X509Certificate | undefined;
  /** Why a device was refused (never a token, key or certificate body). */
  log?: (line: string) => void;
  /** DeviceOperations resource logs: one record per attestation attempt (docs/dps-contract.md §4.4). */
  resourceLogs?: ResourceLogSink;
}

/** A device's 401 that carries why, for the emulator's log and resource logs (never sent to the device). */
export class DeviceRefusal extends EmulatorHttpError {
  constructor(readonly reason: string) {
    super(401, ErrorCodes.unauthorized, 'Unauthorized');
  }
}

/** Why a 401 refused a device: attestation's reason when it gave one. */
export function refusalReason(error: EmulatorHttpError): string {
  return error instanceof DeviceRefusal ? error.reason : 'the SAS token does not authenticate the device';
}

/** Who the device proved to be, and what the webhook and the device's result are told about it. */
export interface DeviceIdentity {
  enrollment: EnrollmentRef;
  attestation: AttestationContext;
}

function symmetricKeysOf(attestation: {
  type: string;
  symmetricKey?: { primaryKey?: string | null; secondaryKey?: string | null } | null;
}): string[] {
  if (attestation.type !== 'symmetricKey') return [];
  const keys = attestation.symmetricKey;
  return [keys?.primaryKey, keys?.secondaryKey].filter((key): key is string => typeof key === 'string');
}

/** The device's identity: from its SAS token when it sends one, else from its TLS client certificate. */
function authenticate(
  context: RequestContext,
  idScopeSegment: string,
  registrationId: string,
  deps: DeviceApiDeps,
): DeviceIdentity {
  // A connection that authenticated at CONNECT (MQTT) keeps that identity while authenticating again would give it.
  const established = context.connectionIdentity?.current(idScopeSegment, registrationId);
  if (established) return established;
  const authorization = headerValue(context, 'authorization');
  if (authorization === undefined && context.clientCertificates.length > 0) {
    return identityOfCertificate(context.clientCertificates, idScopeSegment, registrationId, deps);
  }
  const enrollment = enrollmentOfToken(authorization, idScopeSegment, registrationId, deps);
  return { enrollment, attestation: { type: 'symmetricKey' } };
}

/** X.509 attestation; a refusal is a 401 to the device and its reason a log line. */
function identityOfCertificate(
  chain: readonly X509Certificate[],
  idScopeSegment: string,
  registrationId: string,
  deps: DeviceApiDeps,
): DeviceIdentity {
  if (idScopeSegment.toLowerCase() !== deps.idScope.toLowerCase()) throw unauthorized();
  try {
    const attested = attestX509(registrationId, chain, {
      store: deps.store,
      verifiedCertificate: deps.verifiedCertificate,
      now: new Date(deps.nowSeconds() * 1000),
    });
    const { enrollment } = attested;
    return {
      enrollment,
      attestation: {
        type: 'x509',
        certificateInfo: attested.certificateInfo,
        signingCertificateInfo: attested.signingCertificateInfo,
        enrollmentGroupId: enrollment.kind === 'group' ? enrollment.group.value.enrollmentGroupId : undefined,
      },
    };
  } catch (error) {
    if (!(error instanceof X509Refusal)) throw error;
    deps.log?.(`X.509 device '${registrationId.slice(0, 128)}' refused: ${error.message}`);
    throw new DeviceRefusal(error.message);
  }
}

/** The enrollment a device's SAS token authenticates it with; a 401 when none does. */
function enrollmentOfToken(
  authorization: string | undefined,
  idScopeSegment: string,
  registrationId: string,
  deps: DeviceApiDeps,
): EnrollmentRef {
  if (idScopeSegment.toLowerCase() !== deps.idScope.toLowerCase()) throw unauthorized();
  const now = deps.nowSeconds();
  const token = parseDeviceToken(authorization, deps.idScope, registrationId, now);
  const signedWith = (keys: string[]) =>
    keys.length > 0 && deviceTokenSignedWith(token, deps.idScope, registrationId, keys, now);

  const individual = deps.store.getIndividual(registrationId);
  if (individual) {
    // An individual enrollment takes precedence over any group.
    if (signedWith(symmetricKeysOf(individual.value.attestation))) return { kind: 'individual', individual };
    throw unauthorized();
  }
  const record = deps.store.getRegistration(registrationId);
  const groups = deps.store.allGroups();
  const known = record?.enrollmentGroupKey;
  const ordered: StoredGroup[] = known
    ? [...groups.filter((g) => g.key === known), ...groups.filter((g) => g.key !== known)]
    : groups;
  for (const group of ordered) {
    const derived = symmetricKeysOf(group.value.attestation).map((key) =>
      deriveDeviceKey(key, registrationId),
    );
    if (signedWith(derived)) return { kind: 'group', group };
  }
  throw unauthorized();
}

/**
 * The identity a device proves for its connection (MQTT checks it at CONNECT, before any request); undefined on a
 * 401. A request of that connection gets it back while authenticating the request would give the same identity:
 * same registration id and ID scope, the enrollment stored unchanged (every write takes a new sequence number) and
 * still the one tried first (no individual enrollment since; for a group, the device's known group), and `stable`
 * (token expiry; certificate validity and the group's anchors).
 */
function connectionIdentity(
  registrationId: string,
  deps: DeviceApiDeps,
  establish: () => { identity: DeviceIdentity; stable: () => boolean },
): ConnectionIdentity | undefined {
  let established: { identity: DeviceIdentity; stable: () => boolean };
  try {
    established = establish();
  } catch (error) {
    if (!(error instanceof EmulatorHttpError)) throw error;
    // Refused at CONNECT, before any request: the attempt DPS's resource logs would record.
    recordRefusal(deps, registrationId, 'Mqtt', error);
    return undefined;
  }
  const { identity, stable } = established;
  const { enrollment } = identity;
  const stored = enrollment.kind === 'group' ? enrollment.group : enrollment.individual;
  const sequence = stored.sequence;
  const stillFirst = (): boolean => {
    const individual = deps.store.getIndividual(registrationId);
    if (enrollment.kind === 'individual') return individual === stored;
    return (
      individual === undefined &&
      deps.store.getGroup(enrollment.group.value.enrollmentGroupId) === stored &&
      deps.store.getRegistration(registrationId)?.enrollmentGroupKey === stored.key
    );
  };
  return {
    current: (idScopeSegment, id) =>
      id === registrationId &&
      idScopeSegment.toLowerCase() === deps.idScope.toLowerCase() &&
      stored.sequence === sequence &&
      stillFirst() &&
      stable()
        ? identity
        : undefined,
  };
}

/** The connection identity a device's SAS token proves, or undefined when it proves none. */
export function deviceTokenAccepted(
  authorization: string,
  idScope: string,
  registrationId: string,
  deps: DeviceApiDeps,
): ConnectionIdentity | undefined {
  const expiry = parseSasToken(authorization)?.expiry ?? 0;
  return connectionIdentity(registrationId, deps, () => ({
    identity: {
      enrollment: enrollmentOfToken(authorization, idScope, registrationId, deps),
      attestation: { type: 'symmetricKey' },
    },
    // parseDeviceToken refuses a token from its expiry second on.
    stable: () => deps.nowSeconds() < expiry,
  }));
}

/** The connection identity a TLS client certificate chain attests, or undefined (the refusal's reason is logged). */
export function deviceCertificateAccepted(
  chain: readonly X509Certificate[],
  idScope: string,
  registrationId: string,
  deps: DeviceApiDeps,
): ConnectionIdentity | undefined {
  const attestationDeps = (): X509AttestationDeps => ({
    store: deps.store,
    verifiedCertificate: deps.verifiedCertificate,
    now: new Date(deps.nowSeconds() * 1000),
  });
  return connectionIdentity(registrationId, deps, () => {
    const before = attestationDeps(); // read no later than the attestation's own clock
    const identity = identityOfCertificate(chain, idScope, registrationId, deps);
    const stable = attestationStability(chain, identity.enrollment, before);
    return { identity, stable: () => stable(attestationDeps()) };
  });
}

/** DeviceRegistrationResult: the registration state, with the attestation's details (REST spec, device.json). */
function registrationResult(record: RegistrationRecord, identity: DeviceIdentity): Record<string, unknown> {
  const state = presentRegistrationState(record);
  const { enrollment, attestation } = identity;
  if (attestation.type === 'x509') return { ...state, x509: x509ContextOf(attestation) };
  if (enrollment.kind === 'group') {
    return { ...state, symmetricKey: { enrollmentGroupId: enrollment.group.value.enrollmentGroupId } };
  }
  return state;
}

function pathRegistrationId(segment: string): string {
  const registrationId = decodePathSegment(segment, 'The registration id');
  assertValidId(registrationId, 'registrationId');
  return registrationId;
}

export function matchDeviceRoute(
  method: string,
  segments: readonly string[],
  deps: DeviceApiDeps,
): RouteMatch | undefined {
  const [idScope, registrations, idSegment, action, operationId, ...rest] = segments;
  if (!idScope || !literal(registrations, 'registrations') || !idSegment || rest.length > 0) return undefined;

  if (action === undefined) {
    return method === 'POST'
      ? {
          name: 'device.statusLookup',
          api: 'device',
          handle: (context) => statusLookup(context, idScope, idSegment, deps),
        }
      : methodNotAllowed('device.statusLookup', 'device', ['POST']);
  }
  if (literal(action, 'register') && operationId === undefined) {
    return method === 'PUT'
      ? {
          name: 'device.register',
          api: 'device',
          handle: (context) => register(context, idScope, idSegment, deps),
        }
      : methodNotAllowed('device.register', 'device', ['PUT']);
  }
  if (literal(action, 'operations') && operationId) {
    return method === 'GET'
      ? {
          name: 'device.operationStatus',
          api: 'device',
          handle: (context) => operationStatus(context, idScope, idSegment, operationId, deps),
        }
      : methodNotAllowed('device.operationStatus', 'device', ['GET']);
  }
  return undefined;
}

/** Runs a register request's attestation and records the attempt in the resource logs, as DPS does. */
function loggedAttempt(
  context: RequestContext,
  registrationId: string,
  deps: DeviceApiDeps,
  attest: () => DeviceIdentity,
): DeviceIdentity {
  const protocol = context.protocol ?? 'Http';
  try {
    const identity = attest();
    deps.resourceLogs?.attestationAttempt({ registrationId, protocol, succeeded: true });
    return identity;
  } catch (error) {
    if (error instanceof EmulatorHttpError) recordRefusal(deps, registrationId, protocol, error);
    throw error;
  }
}

/** A 401 of attestation, in the resource logs. */
function recordRefusal(
  deps: DeviceApiDeps,
  registrationId: string,
  protocol: 'Http' | 'Mqtt',
  error: EmulatorHttpError,
): void {
  if (error.status !== 401) return;
  deps.resourceLogs?.attestationAttempt({
    registrationId,
    protocol,
    succeeded: false,
    status: error.status,
    errorCode: error.errorCode,
    reason: refusalReason(error),
  });
}

function assigningAnswer(operation: Operation, deps: DeviceApiDeps, location?: string): HttpAnswer {
  const headers: Record<string, string> = { 'retry-after': String(deps.retryAfterSeconds()) };
  if (location) headers.location = location;
  return { status: 202, body: { operationId: operation.id, status: 'assigning' }, headers };
}

function register(
  context: RequestContext,
  idScope: string,
  idSegment: string,
  deps: DeviceApiDeps,
): HttpAnswer {
  requireApiVersion(context);
  const registrationId = pathRegistrationId(idSegment);
  const parsed = deviceRegistrationSchema.safeParse(jsonBody(context));
  if (!parsed.success)
    throw badRequest('The body must be a DeviceRegistration: {"registrationId": "...", "payload"?: {...}}');
  if (parsed.data.registrationId.toLowerCase() !== registrationId.toLowerCase()) {
    throw badRequest('registrationId in the body does not match the registration id in the URL');
  }
  const identity = loggedAttempt(context, registrationId, deps, () =>
    authenticate(context, idScope, registrationId, deps),
  );
  const { enrollment, attestation } = identity;
  const groupKey = enrollment.kind === 'group' ? enrollment.group.key : undefined;
  const record =
    deps.store.getRegistration(registrationId) ?? deps.store.newRegistration(registrationId, groupKey);
  record.enrollmentGroupKey = groupKey;
  const input: RegistrationInput = { registrationId, enrollment, payload: parsed.data.payload, attestation };

  const operation = deps.operations.start(record.key, async (op) => {
    try {
      await deps.runRegistration(input, record);
      op.result = {
        operationId: op.id,
        status: record.status,
        registrationState: registrationResult(record, identity),
      };
    } catch {
      op.result = {
        operationId: op.id,
        status: 'failed',
        registrationState: {
          registrationId,
          status: 'failed',
          errorCode: ErrorCodes.internalServerError,
          errorMessage: 'The registration was interrupted',
        },
      };
    }
  });
  const location = `/${idScope}/registrations/${encodeURIComponent(registrationId)}/operations/${operation.id}`;
  return assigningAnswer(operation, deps, location);
}

function operationStatus(
  context: RequestContext,
  idScope: string,
  idSegment: string,
  operationIdSegment: string,
  deps: DeviceApiDeps,
): HttpAnswer {
  requireApiVersion(context);
  const registrationId = pathRegistrationId(idSegment);
  authenticate(context, idScope, registrationId, deps);
  const operationId = decodePathSegment(operationIdSegment, 'The operation id');
  const operation = deps.operations.get(operationId);
  if (!operation || operation.registrationKey !== registrationId.toLowerCase()) {
    throw new EmulatorHttpError(
      404,
      ErrorCodes.registrationNotFound,
      `Operation '${operationId.slice(0, 100)}' not found`,
    );
  }
  if (operation.result === undefined) return assigningAnswer(operation, deps);
  return { status: 200, body: operation.result };
}

function statusLookup(
  context: RequestContext,
  idScope: string,
  idSegment: string,
  deps: DeviceApiDeps,
): HttpAnswer {
  requireApiVersion(context);
  const registrationId = pathRegistrationId(idSegment);
  const identity = authenticate(context, idScope, registrationId, deps);
  const record = deps.store.requireRegistration(registrationId);
  return { status: 200, body: registrationResult(record, identity) };
}
