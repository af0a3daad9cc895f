// Webhook request bodies as DPS sends them (docs/dps-contract.md §1.2): the documented samples and the
// individual, TPM and X.509 forms built from the REST types.
import type { AllocationRequest } from '../../../src/allocation/request';

/** The official sample from "Understand custom allocation policies" (initial assignment, symmetric-key group). */
export const officialSample = {
  enrollmentGroup: {
    enrollmentGroupId: 'contoso-custom-allocated-devices',
    attestation: { type: 'symmetricKey' },
    capabilities: { iotEdge: false },
    etag: '"13003fea-0000-0300-0000-62d1d5e50000"',
    provisioningStatus: 'enabled',
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    createdDateTimeUtc: '2022-07-05T21:27:16.8123235Z',
    lastUpdatedDateTimeUtc: '2022-07-15T21:02:29.5922255Z',
    allocationPolicy: 'custom',
    iotHubs: [
      'custom-allocation-toasters-hub.azure-devices.net',
      'custom-allocation-heatpumps-hub.azure-devices.net',
    ],
    customAllocationDefinition: {
      webhookUrl: 'https://custom-allocation-function-app-3.azurewebsites.net/api/HttpTrigger1?****',
      apiVersion: '2021-10-01',
    },
  },
  deviceRuntimeContext: { registrationId: 'breakroom499-contoso-tstrsd-007', symmetricKey: {} },
  linkedHubs: [
    'custom-allocation-toasters-hub.azure-devices.net',
    'custom-allocation-heatpumps-hub.azure-devices.net',
  ],
};

/** The re-registration with payload captured in the tutorial's function log (2022-08-03). */
export const reprovisionCapture = {
  enrollmentGroup: {
    enrollmentGroupId: 'contoso-custom-allocated-devices',
    attestation: { type: 'symmetricKey' },
    capabilities: { iotEdge: false },
    etag: '"0000f176-0000-0700-0000-62eaad1e0000"',
    provisioningStatus: 'enabled',
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    createdDateTimeUtc: '2022-08-03T17:15:10.8464255Z',
    lastUpdatedDateTimeUtc: '2022-08-03T17:15:10.8464255Z',
    allocationPolicy: 'custom',
    iotHubs: ['contoso-toasters-hub-1098.azure-devices.net', 'contoso-heatpumps-hub-1098.azure-devices.net'],
    customAllocationDefinition: {
      webhookUrl: 'https://contoso-function-app-1098.azurewebsites.net/api/HttpTrigger1?****',
      apiVersion: '2021-10-01',
    },
  },
  deviceRuntimeContext: {
    registrationId: 'breakroom499-contoso-tstrsd-007',
    currentIotHubHostName: 'contoso-toasters-hub-1098.azure-devices.net',
    currentDeviceId: 'breakroom499-contoso-tstrsd-007',
    symmetricKey: {},
    payload: { MyDeviceFirmwareVersion: '12.0.2.5', MyDeviceProvisioningVersion: '1.0.0.0' },
  },
  linkedHubs: ['contoso-toasters-hub-1098.azure-devices.net', 'contoso-heatpumps-hub-1098.azure-devices.net'],
};

/** An individual enrollment with symmetric-key attestation (IndividualEnrollment REST type). */
export const individualEnrollmentBody = {
  individualEnrollment: {
    registrationId: 'kitchen-contoso-hpsd-088',
    deviceId: 'kitchen-contoso-hpsd-088',
    attestation: { type: 'symmetricKey' },
    capabilities: { iotEdge: false },
    etag: '"1f00a1b2-0000-0300-0000-62d1d5e50000"',
    provisioningStatus: 'enabled',
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
    allocationPolicy: 'custom',
    iotHubs: ['contoso-toasters-hub-1098.azure-devices.net', 'contoso-heatpumps-hub-1098.azure-devices.net'],
    customAllocationDefinition: {
      webhookUrl: 'https://contoso-function-app-1098.azurewebsites.net/api/allocate?****',
      apiVersion: '2021-10-01',
    },
  },
  deviceRuntimeContext: { registrationId: 'kitchen-contoso-hpsd-088', symmetricKey: {} },
  linkedHubs: ['contoso-toasters-hub-1098.azure-devices.net', 'contoso-heatpumps-hub-1098.azure-devices.net'],
};

/** A TPM individual enrollment: the runtime context carries the endorsement and storage root keys. */
export const tpmBody = {
  individualEnrollment: {
    registrationId: 'tpm-sensor-0001',
    attestation: {
      type: 'tpm',
      tpm: {
        endorsementKey: 'AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEA',
      },
    },
    capabilities: { iotEdge: true },
    provisioningStatus: 'enabled',
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: 'https://fn.azurewebsites.net/api/allocate?****',
      apiVersion: '2021-10-01',
    },
  },
  deviceRuntimeContext: {
    registrationId: 'tpm-sensor-0001',
    tpm: {
      endorsementKey: 'AToAAQALAAMAsgAgg3GXZ0SEs/gakMyNRqXXJP1S124GUgtk8qHaGzMUaaoABgCAAEMAEAgAAAAAAAEA',
      storageRootKey: 'ARgAAQALAAMAcgAAAAYAgAAQAAAAAAAAAAAA',
    },
  },
  linkedHubs: ['hub-eu-1.azure-devices.net', 'hub-us-1.azure-devices.net'],
};

/** An X.509 enrollment group (CA-signed device certificates); x509 runtime fields are not documented. */
export const x509Body = {
  enrollmentGroup: {
    enrollmentGroupId: 'x509-gateways',
    attestation: {
      type: 'x509',
      x509: {
        signingCertificates: {
          primary: {
            info: {
              subjectName: 'CN=Contoso Intermediate CA',
              sha1Thumbprint: '0F0C6E4E2C0F0E4B6A2B7F6D9E1C0A3B4D5E6F70',
              sha256Thumbprint: '5D7A0E0E',
              issuerName: 'CN=Contoso Root CA',
              notBeforeUtc: '2025-01-01T00:00:00Z',
              notAfterUtc: '2030-01-01T00:00:00Z',
              serialNumber: '0A1B2C3D',
              version: 3,
            },
          },
        },
      },
    },
    capabilities: { iotEdge: true },
    provisioningStatus: 'enabled',
    allocationPolicy: 'custom',
    iotHubs: [],
    customAllocationDefinition: {
      webhookUrl: 'https://fn.azurewebsites.net/api/allocate?****',
      apiVersion: '2021-10-01',
    },
  },
  deviceRuntimeContext: {
    registrationId: 'gateway-17',
    x509: { certificateInfo: { subjectName: 'CN=gateway-17' } },
    payload: { region: 'westeurope', model: { id: 'dtmi:contoso:gateway;2' } },
  },
  linkedHubs: ['hub-eu-1.azure-devices.net', 'hub-us-1.azure-devices.net', 'hub-eu-2.azure-devices.net'],
};

/** A deep copy, so tests can change a body without touching the shared fixture. */
export function copyOf<T>(body: T): T {
  return structuredClone(body);
}

export type RequestBody = AllocationRequest;
