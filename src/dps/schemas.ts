// Zod schemas of the DPS service types, api-version 2021-10-01 (docs/dps-contract.md §2.3 and
// the REST pages it cites). Objects are loose: DPS may add fields, and we must not reject what we don't use.
import { z } from 'zod';

export const attestationTypeSchema = z.enum(['none', 'tpm', 'x509', 'symmetricKey']);
export type AttestationType = z.infer<typeof attestationTypeSchema>;

export const twinCollectionSchema = z.record(z.string(), z.unknown());
export type TwinCollection = z.infer<typeof twinCollectionSchema>;

export const initialTwinSchema = z.looseObject({
  tags: twinCollectionSchema.nullish(),
  properties: z.looseObject({ desired: twinCollectionSchema.nullish() }).nullish(),
});
export type InitialTwin = z.infer<typeof initialTwinSchema>;

const x509CertificateInfoSchema = z.looseObject({
  subjectName: z.string().nullish(),
  sha1Thumbprint: z.string().nullish(),
  sha256Thumbprint: z.string().nullish(),
  issuerName: z.string().nullish(),
  notBeforeUtc: z.string().nullish(),
  notAfterUtc: z.string().nullish(),
  serialNumber: z.string().nullish(),
  version: z.number().nullish(),
});

const x509CertificateWithInfoSchema = z.looseObject({
  certificate: z.string().nullish(),
  info: x509CertificateInfoSchema.nullish(),
});

const x509CertificatesSchema = z.looseObject({
  primary: x509CertificateWithInfoSchema.nullish(),
  secondary: x509CertificateWithInfoSchema.nullish(),
});

export const attestationMechanismSchema = z.looseObject({
  type: attestationTypeSchema,
  tpm: z
    .looseObject({ endorsementKey: z.string().nullish(), storageRootKey: z.string().nullish() })
    .nullish(),
  x509: z
    .looseObject({
      clientCertificates: x509CertificatesSchema.nullish(),
      signingCertificates: x509CertificatesSchema.nullish(),
      caReferences: z
        .looseObject({ primary: z.string().nullish(), secondary: z.string().nullish() })
        .nullish(),
    })
    .nullish(),
  symmetricKey: z
    .looseObject({ primaryKey: z.string().nullish(), secondaryKey: z.string().nullish() })
    .nullish(),
});
export type AttestationMechanism = z.infer<typeof attestationMechanismSchema>;

export const allocationPolicySchema = z.enum(['hashed', 'geoLatency', 'static', 'custom']);
export type AllocationPolicy = z.infer<typeof allocationPolicySchema>;

export const customAllocationDefinitionSchema = z.looseObject({
  webhookUrl: z.string(),
  apiVersion: z.string(),
});
export type CustomAllocationDefinition = z.infer<typeof customAllocationDefinitionSchema>;

export const reprovisionPolicySchema = z.looseObject({
  updateHubAssignment: z.boolean().nullish(),
  migrateDeviceData: z.boolean().nullish(),
});
export type ReprovisionPolicy = z.infer<typeof reprovisionPolicySchema>;

export const registrationStatusSchema = z.enum(['unassigned', 'assigning', 'assigned', 'failed', 'disabled']);
export type RegistrationStatus = z.infer<typeof registrationStatusSchema>;

export const registrationSubstatusSchema = z.enum([
  'initialAssignment',
  'deviceDataMigrated',
  'deviceDataReset',
  'reprovisionedToInitialAssignment',
]);

export const deviceRegistrationStateSchema = z.looseObject({
  registrationId: z.string(),
  createdDateTimeUtc: z.string().nullish(),
  assignedHub: z.string().nullish(),
  deviceId: z.string().nullish(),
  status: registrationStatusSchema.nullish(),
  substatus: registrationSubstatusSchema.nullish(),
  errorCode: z.number().int().nullish(),
  errorMessage: z.string().nullish(),
  lastUpdatedDateTimeUtc: z.string().nullish(),
  etag: z.string().nullish(),
  payload: z.unknown().optional(),
});
export type DeviceRegistrationState = z.infer<typeof deviceRegistrationStateSchema>;

// Fields an enrollment group and an individual enrollment have in common.
const enrollmentCommonShape = {
  attestation: attestationMechanismSchema,
  capabilities: z.looseObject({ iotEdge: z.boolean().nullish() }).nullish(),
  iotHubHostName: z.string().nullish(),
  initialTwin: initialTwinSchema.nullish(),
  etag: z.string().nullish(),
  provisioningStatus: z.enum(['enabled', 'disabled']).nullish(),
  reprovisionPolicy: reprovisionPolicySchema.nullish(),
  createdDateTimeUtc: z.string().nullish(),
  lastUpdatedDateTimeUtc: z.string().nullish(),
  allocationPolicy: allocationPolicySchema.nullish(),
  iotHubs: z.array(z.string()).nullish(),
  customAllocationDefinition: customAllocationDefinitionSchema.nullish(),
};

export const enrollmentGroupSchema = z.looseObject({
  enrollmentGroupId: z.string().min(1),
  ...enrollmentCommonShape,
});
export type EnrollmentGroup = z.infer<typeof enrollmentGroupSchema>;

export const individualEnrollmentSchema = z.looseObject({
  registrationId: z.string().min(1),
  deviceId: z.string().nullish(),
  registrationState: deviceRegistrationStateSchema.nullish(),
  optionalDeviceInformation: twinCollectionSchema.nullish(),
  ...enrollmentCommonShape,
});
export type IndividualEnrollment = z.infer<typeof individualEnrollmentSchema>;

/**
 * ProvisioningServiceErrorDetails; some responses say `code` instead of `errorCode`
 * (docs/dps-contract.md §2.4).
 */
export const provisioningErrorSchema = z.looseObject({
  errorCode: z.union([z.number(), z.string()]).nullish(),
  code: z.union([z.number(), z.string()]).nullish(),
  trackingId: z.string().nullish(),
  message: z.string().nullish(),
  info: z.record(z.string(), z.unknown()).nullish(),
  timestampUtc: z.string().nullish(),
});
export type ProvisioningError = z.infer<typeof provisioningErrorSchema>;

export const querySpecificationSchema = z.object({ query: z.string().min(1) });
export type QuerySpecification = z.infer<typeof querySpecificationSchema>;

/** Device runtime API: the body of `PUT /{idScope}/registrations/{id}/register`. */
export const deviceRegistrationSchema = z.looseObject({
  registrationId: z.string().min(1),
  tpm: z.looseObject({ endorsementKey: z.string(), storageRootKey: z.string().nullish() }).nullish(),
  payload: z.unknown().optional(),
});
export type DeviceRegistration = z.infer<typeof deviceRegistrationSchema>;
