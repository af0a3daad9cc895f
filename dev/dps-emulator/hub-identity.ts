// The device identity DPS writes to the hub for a registration (docs/dps-contract.md §9.1): symmetric-key devices
// get `sas` with the keys they attest with (the individual enrollment's, or the ones derived from the group's), X.509
// devices of an individual enrollment `selfSigned` with their certificate's thumbprint, X.509 devices of a group
// `certificateAuthority` (the X.509 choices are UNCONFIRMED), TPM devices `sas` with keys the hub generates.
import { deriveDeviceKey } from '../../src/dps/sas';
import type { IdentityAuthentication } from '../iot-hub-emulator';
import type { RegistrationInput } from './provisioning';

const NO_KEYS = { primaryKey: undefined, secondaryKey: undefined };
const NO_THUMBPRINTS = { primaryThumbprint: undefined, secondaryThumbprint: undefined };

export function hubAuthenticationOf(input: RegistrationInput): IdentityAuthentication {
  const { attestation, enrollment } = input;
  if (attestation.type === 'x509') {
    return enrollment.kind === 'individual'
      ? {
          authenticationType: 'selfSigned',
          ...NO_KEYS,
          primaryThumbprint: attestation.certificateInfo.sha1Thumbprint,
          secondaryThumbprint: undefined,
        }
      : { authenticationType: 'certificateAuthority', ...NO_KEYS, ...NO_THUMBPRINTS };
  }
  if (attestation.type === 'symmetricKey') {
    const keys =
      enrollment.kind === 'individual'
        ? enrollment.individual.value.attestation.symmetricKey
        : enrollment.group.value.attestation.symmetricKey;
    const derive = (key: string | null | undefined) =>
      !key ? undefined : enrollment.kind === 'group' ? deriveDeviceKey(key, input.registrationId) : key;
    return {
      authenticationType: 'sas',
      primaryKey: derive(keys?.primaryKey),
      secondaryKey: derive(keys?.secondaryKey),
      ...NO_THUMBPRINTS,
    };
  }
  return { authenticationType: 'sas', ...NO_KEYS, ...NO_THUMBPRINTS };
}

/** The enrollment's `capabilities.iotEdge`: DPS creates an IoT Edge device when it is set. */
export function iotEdgeOf(input: RegistrationInput): boolean {
  const enrollment =
    input.enrollment.kind === 'individual' ? input.enrollment.individual : input.enrollment.group;
  return enrollment.value.capabilities?.iotEdge === true;
}
