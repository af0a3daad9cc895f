// SAS checks of the IoT hub emulator, as for DPS (docs/dps-contract.md §3.1, here §9.4): a token of one of the
// hub's shared access policies, `sr` = the hub's host name, signed with the policy's key. Verification is the DPS
// emulator's (dev/dps-emulator/auth.ts, src/dps/sas.ts); this file holds the hub's policies and rights.
import { randomBytes } from 'node:crypto';
import { verifyPolicyToken } from '../dps-emulator/auth';
import { hubUnauthorized } from './errors';

/** IoT Hub's permissions (https://learn.microsoft.com/azure/iot-hub/authenticate-authorize-sas). */
export const HUB_RIGHTS = ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect'] as const;
export type HubRight = (typeof HUB_RIGHTS)[number];

export const HUB_OWNER_POLICY = 'iothubowner';
export const HUB_READ_ONLY_POLICY = 'registryRead';
export type HubPolicyName = typeof HUB_OWNER_POLICY | typeof HUB_READ_ONLY_POLICY;

export interface HubPolicy {
  keyName: string;
  primaryKey: string;
  secondaryKey?: string;
  rights: readonly HubRight[];
}

/** The two policies every emulated hub has, with fresh keys (or the saved ones). */
export function hubPolicies(saved?: ReadonlyArray<{ keyName: string; primaryKey: string }>): HubPolicy[] {
  const key = (name: string) =>
    saved?.find((policy) => policy.keyName === name)?.primaryKey ?? randomBytes(32).toString('base64');
  return [
    { keyName: HUB_OWNER_POLICY, primaryKey: key(HUB_OWNER_POLICY), rights: HUB_RIGHTS },
    { keyName: HUB_READ_ONLY_POLICY, primaryKey: key(HUB_READ_ONLY_POLICY), rights: ['RegistryRead'] },
  ];
}

/** Throws a 401 unless the Authorization header carries a valid token of a policy with `required`. */
export function authorizeHubCall(
  authorization: string | undefined,
  method: string,
  path: string,
  required: HubRight,
  hub: { hostName: string; policies: readonly HubPolicy[] },
  nowSeconds: number,
): HubPolicy {
  if (authorization?.startsWith('Bearer ')) {
    throw hubUnauthorized(
      'Unauthorized: the emulator accepts SharedAccessSignature tokens only (no Entra ID)',
    );
  }
  const verdict = verifyPolicyToken(
    authorization,
    path,
    hub.policies,
    [hub.hostName.toLowerCase()],
    nowSeconds,
  );
  if (!verdict.ok) throw hubUnauthorized(`Unauthorized: ${verdict.reason}`);
  if (!verdict.policy.rights.includes(required)) {
    throw hubUnauthorized(
      `Principal ${verdict.policy.keyName} is not authorized for ${method} on ${path} due to no assigned ` +
        `permissions (needs ${required})`,
    );
  }
  return verdict.policy;
}
