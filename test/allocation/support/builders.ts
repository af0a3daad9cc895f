// Small builders shared by the allocation tests.
import { compilePolicy, type Decision } from '../../../src/allocation/engine';
import { parsePolicy } from '../../../src/allocation/policy';
import type { PolicyInput } from '../../../src/allocation/policy-schema';
import { allocationRequestSchema, type AllocationRequest } from '../../../src/allocation/request';

export interface DeviceOptions {
  registrationId?: string;
  groupId?: string | null;
  attestation?: 'symmetricKey' | 'x509' | 'tpm';
  iotEdge?: boolean;
  currentHub?: string;
  payload?: Record<string, unknown>;
  linkedHubs?: string[];
  /** deviceRuntimeContext.x509 (X.509 devices; default {}). */
  x509?: Record<string, unknown>;
}

export const HUBS = {
  eu1: 'hub-eu-1.azure-devices.net',
  eu2: 'hub-eu-2.azure-devices.net',
  us1: 'hub-us-1.azure-devices.net',
  asia1: 'hub-asia-1.azure-devices.net',
};

/** A valid DPS webhook request (group enrollment unless groupId is null). */
export function deviceRequest(options: DeviceOptions = {}): AllocationRequest {
  const registrationId = options.registrationId ?? 'device-001';
  const attestation = { type: options.attestation ?? 'symmetricKey' };
  const enrollment = {
    attestation,
    capabilities: { iotEdge: options.iotEdge ?? false },
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: 'https://fn.azurewebsites.net/api/allocate?****',
      apiVersion: '2021-10-01',
    },
  };
  const body = {
    ...(options.groupId === null
      ? { individualEnrollment: { registrationId, ...enrollment } }
      : { enrollmentGroup: { enrollmentGroupId: options.groupId ?? 'group-a', ...enrollment } }),
    deviceRuntimeContext: {
      registrationId,
      ...(options.attestation === 'tpm'
        ? { tpm: { endorsementKey: 'ek' } }
        : options.attestation === 'x509'
          ? { x509: options.x509 ?? {} }
          : { symmetricKey: {} }),
      ...(options.currentHub
        ? { currentIotHubHostName: options.currentHub, currentDeviceId: registrationId }
        : {}),
      ...(options.payload ? { payload: options.payload } : {}),
    },
    linkedHubs: options.linkedHubs ?? Object.values(HUBS),
  };
  return allocationRequestSchema.parse(body);
}

export function decideWith(
  policy: PolicyInput,
  request: AllocationRequest,
  explain = false,
  now?: number,
): Decision {
  return compilePolicy(parsePolicy(policy, 'test')).decide(request, { explain, now });
}
