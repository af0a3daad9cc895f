// SAS checks (docs/dps-contract.md §3): service calls carry a token of a shared access policy, whose rights
// must cover the operation; device calls carry a `skn=registration` token signed with the enrollment key or
// the key derived from the group key. Verification itself is src/dps/sas.ts.
import type { ParsedSasToken } from '../../src/dps/sas';
import { parseSasToken, verifySasToken } from '../../src/dps/sas';
import { EmulatorHttpError, ErrorCodes, unauthorized } from './errors';

export const SERVICE_RIGHTS = [
  'ServiceConfig',
  'EnrollmentRead',
  'EnrollmentWrite',
  'RegistrationStatusRead',
  'RegistrationStatusWrite',
] as const;
export type ServiceRight = (typeof SERVICE_RIGHTS)[number];

export interface SharedAccessPolicy {
  keyName: string;
  primaryKey: string;
  secondaryKey?: string;
  rights: readonly ServiceRight[];
}

export interface ServiceAuthContext {
  policies: readonly SharedAccessPolicy[];
  /** Host names a token's `sr` may name (lower case), e.g. `localhost`, `127.0.0.1:8443`. */
  acceptedHosts: readonly string[];
  nowSeconds: number;
}

/**
 * Checks the Authorization header of a service call and the rights of its policy; throws a 401 otherwise.
 * A policy without the right is refused with 401 too: DPS documents no 403, and IoT Hub answers
 * 401 "... is not authorized for PUT on ... due to no assigned permissions" in that case.
 */
export function authorizeServiceCall(
  authorization: string | undefined,
  method: string,
  path: string,
  required: ServiceRight,
  context: ServiceAuthContext,
): SharedAccessPolicy {
  if (authorization?.startsWith('Bearer ')) {
    throw unauthorized('Unauthorized: the emulator accepts SharedAccessSignature tokens only (no Entra ID)');
  }
  const verdict = verifyPolicyToken(
    authorization,
    path,
    context.policies,
    context.acceptedHosts,
    context.nowSeconds,
  );
  if (!verdict.ok) throw unauthorized(`Unauthorized: ${verdict.reason}`);
  const { policy } = verdict;
  if (!policy.rights.includes(required)) {
    throw new EmulatorHttpError(
      401,
      ErrorCodes.unauthorized,
      `Principal ${policy.keyName} is not authorized for ${method} on ${path} due to no assigned permissions ` +
        `(needs ${required})`,
    );
  }
  return policy;
}

/** What a policy token check needs of a policy (the DPS emulator's and the IoT hub emulator's). */
export interface PolicyKeys {
  keyName: string;
  primaryKey: string;
  secondaryKey?: string;
}

export type PolicyTokenVerdict<P> = { ok: true; policy: P } | { ok: false; reason: string };

/**
 * The policy whose key signed the Authorization header's SAS token, when the token names that policy (`skn`), a
 * host in `acceptedHosts` (optionally with a path prefix of `path`) and has not expired. Rights are the caller's.
 */
export function verifyPolicyToken<P extends PolicyKeys>(
  authorization: string | undefined,
  path: string,
  policies: readonly P[],
  acceptedHosts: readonly string[],
  nowSeconds: number,
): PolicyTokenVerdict<P> {
  const token = parseSasToken(authorization);
  if (!token) return { ok: false, reason: 'missing or malformed SharedAccessSignature' };
  const policy = policies.find(
    (candidate) => candidate.keyName.toLowerCase() === (token.keyName ?? '').toLowerCase(),
  );
  if (!policy) return { ok: false, reason: 'unknown shared access policy' };
  if (!resourceGrantsPath(token.resource, path, acceptedHosts)) {
    return { ok: false, reason: 'the token does not apply to this service' };
  }
  const keys = policy.secondaryKey ? [policy.primaryKey, policy.secondaryKey] : [policy.primaryKey];
  const verdict = verifySasToken(token, token.resource, keys, nowSeconds);
  return verdict.ok ? { ok: true, policy } : verdict;
}

/** `sr` is the host name, optionally followed by a path prefix matched by segment. */
function resourceGrantsPath(resource: string, path: string, acceptedHosts: readonly string[]): boolean {
  const lower = resource
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
  const slash = lower.indexOf('/');
  const host = slash < 0 ? lower : lower.slice(0, slash);
  if (!acceptedHosts.includes(host)) return false;
  if (slash < 0) return true;
  const prefix = lower.slice(slash);
  const lowerPath = path.toLowerCase();
  return lowerPath === prefix || lowerPath.startsWith(`${prefix}/`);
}

/** Parses a device token and checks what does not depend on the key: resource, key name, expiry. */
export function parseDeviceToken(
  authorization: string | undefined,
  idScope: string,
  registrationId: string,
  nowSeconds: number,
): ParsedSasToken {
  const token = parseSasToken(authorization);
  if (!token) throw unauthorized();
  // The Node SDK sends skn=registration; the Python SDK and Embedded C send no skn (or an empty one), and DPS
  // takes both (docs/dps-contract.md §3.3). Any other key name is a service policy's, not a device's.
  const keyName = (token.keyName ?? '').toLowerCase();
  if (keyName !== '' && keyName !== 'registration') throw unauthorized();
  if (token.resource.toLowerCase() !== `${idScope}/registrations/${registrationId}`.toLowerCase()) {
    throw unauthorized();
  }
  if (token.expiry <= nowSeconds) throw unauthorized();
  return token;
}

/** True when the device token is signed with one of the keys (sr as sent or URL-encoded, see sas.ts). */
export function deviceTokenSignedWith(
  token: ParsedSasToken,
  idScope: string,
  registrationId: string,
  keys: readonly string[],
  nowSeconds: number,
): boolean {
  return verifySasToken(token, `${idScope}/registrations/${registrationId}`, keys, nowSeconds).ok;
}
