// The custom allocation webhook contract (docs/dps-contract.md §1.2-1.3): what DPS posts, and what we answer.
// We validate the fields the policy reads, with their types; the rest of the enrollment DPS echoes is tolerated
// as it comes, so a new DPS field or enum value never fails a device's registration.
import { z } from 'zod';

const jsonObjectSchema = z.record(z.string(), z.unknown());

// Payload values can be echoed into the answer; bound their depth so serialising it cannot overflow the stack.
export const MAX_PAYLOAD_DEPTH = 32;

function nestsWithin(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (levels === 0) return false;
  return Object.values(value).every((child) => nestsWithin(child, levels - 1));
}

export const deviceRuntimeContextSchema = z.looseObject({
  registrationId: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  currentIotHubHostName: z.string().min(1).nullish(),
  currentDeviceId: z.string().nullish(),
  symmetricKey: jsonObjectSchema.nullish(),
  x509: jsonObjectSchema.nullish(),
  tpm: z
    .looseObject({ endorsementKey: z.string().nullish(), storageRootKey: z.string().nullish() })
    .nullish(),
  payload: z
    .record(z.string(), z.unknown(), { error: 'payload must be a JSON object' })
    .nullish()
    .refine((payload) => payload == null || nestsWithin(payload, MAX_PAYLOAD_DEPTH), {
      message: `payload must not nest deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    }),
});

/** The enrollment fields the policy reads (attestation types seen: symmetricKey, x509, tpm, none). */
const enrollmentShape = {
  attestation: z.looseObject({ type: z.string().min(1) }),
  capabilities: z.looseObject({ iotEdge: z.boolean().nullish() }).nullish(),
};

export const webhookEnrollmentGroupSchema = z.looseObject({
  enrollmentGroupId: z.string().min(1),
  ...enrollmentShape,
});

export const webhookIndividualEnrollmentSchema = z.looseObject({
  registrationId: z.string().min(1),
  ...enrollmentShape,
});

export const allocationRequestSchema = z
  .looseObject({
    enrollmentGroup: webhookEnrollmentGroupSchema.nullish(),
    individualEnrollment: webhookIndividualEnrollmentSchema.nullish(),
    deviceRuntimeContext: deviceRuntimeContextSchema,
    linkedHubs: z.array(z.string().min(1, 'hub host names must not be empty')),
  })
  .superRefine((request, ctx) => {
    if (!request.enrollmentGroup && !request.individualEnrollment) {
      ctx.addIssue({
        code: 'custom',
        message: 'one of enrollmentGroup or individualEnrollment is required',
        path: [],
      });
    }
    if (request.enrollmentGroup && request.individualEnrollment) {
      ctx.addIssue({
        code: 'custom',
        message: 'only one of enrollmentGroup and individualEnrollment may be present',
        path: [],
      });
    }
  });

export type AllocationRequest = z.infer<typeof allocationRequestSchema>;
export type DeviceRuntimeContext = AllocationRequest['deviceRuntimeContext'];

export interface AllocationResponse {
  iotHubHostName: string;
  initialTwin?: { tags?: Record<string, unknown>; properties?: { desired?: Record<string, unknown> } };
  payload?: Record<string, unknown>;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The attestation type of a request: from the enrollment, else from the runtime context. */
export function attestationTypeOf(request: AllocationRequest): string | undefined {
  const enrollment = request.enrollmentGroup ?? request.individualEnrollment;
  if (enrollment?.attestation?.type) return enrollment.attestation.type;
  const ctx = request.deviceRuntimeContext;
  if (ctx.symmetricKey) return 'symmetricKey';
  if (ctx.x509) return 'x509';
  if (ctx.tpm) return 'tpm';
  return undefined;
}
