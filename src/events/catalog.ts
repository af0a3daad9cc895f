// The lifecycle events dps-allocator publishes (docs/events.md): CloudEvents 1.0 (docs/events-contract.md §1) with
// the type prefix `dps-allocator.`, `subject` the registration or enrollment id, a deterministic `id` (ids.ts), and
// a zod schema per type for `data`. data never holds a key, a SAS token, a `code=` or a device's payload values.
// The fields the CLI summarises (status, errorCode, hub, resolution, code) stay flat at the top of `data`.
import { z } from 'zod';

export const EVENT_TYPE_PREFIX = 'dps-allocator.';

export const EVENT_TYPES = [
  'dps-allocator.problem.opened',
  'dps-allocator.problem.changed',
  'dps-allocator.problem.resolved',
  'dps-allocator.device.assigned',
  'dps-allocator.device.moved',
  'dps-allocator.allocation.rejected',
  'dps-allocator.enrollment.finding-raised',
  'dps-allocator.enrollment.finding-cleared',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What every problem event says about the problem (the audit's problem row after the change). */
const problemBase = z.object({
  registrationId: z.string().min(1),
  /** `none`: a device DPS refused at attestation, before any enrollment took it. */
  enrollmentKind: z.enum(['group', 'individual', 'none']),
  /** The group id, the registration id of an individual enrollment, or empty (`none`). */
  enrollmentId: z.string(),
  /** failed, unassigned, disabled or assigning (stuck); for a resolved problem, its last status. */
  status: z.string().min(1),
  substatus: z.string().optional(),
  /** DPS's error code, e.g. 400209. */
  errorCode: z.number().int().optional(),
  /** DPS's message, redacted (no key, SAS or `code=`), at most 4,000 characters. */
  errorMessage: z.string().optional(),
  /** What the status and error code mean and what to do. */
  explanation: z.string(),
  /** Where the audit saw it: registration-state, enrollment-certificate or attestation-log. */
  source: z.enum(['registration-state', 'enrollment-certificate', 'attestation-log']),
  /** The audit scan that saw it. */
  scanId: z.string().min(1),
});

export const problemOpenedDataSchema = problemBase.extend({
  /** True when the device had a resolved problem before (it failed again). */
  reopened: z.boolean(),
});
export const problemChangedDataSchema = problemBase.extend({
  /** The status before the change (equal to `status` when only the error code changed). */
  previousStatus: z.string().min(1),
  previousErrorCode: z.number().int().optional(),
});
export const problemResolvedDataSchema = problemBase.extend({
  resolution: z.enum(['assigned', 'deleted', 'enrollment-deleted', 'certificate-valid', 'attested']),
  /** The hub DPS assigned the device to (resolution `assigned`). */
  assignedHub: z.string().optional(),
  deviceId: z.string().optional(),
});

/** An allocate decision. */
const allocationBase = z.object({
  /** Absent for an invalid request that named no registration. */
  registrationId: z.string().optional(),
  enrollmentKind: z.enum(['group', 'individual']).optional(),
  /** The enrollment group id, or the registration id of an individual enrollment. */
  enrollmentId: z.string().optional(),
  outcome: z.enum(['assigned', 'rejected', 'invalid-request']),
  /** The HTTP status allocate answered: 200, or 400 (DPS then records 400207). */
  status: z.number().int(),
  /** The hub allocate answered (assigned). */
  hub: z.string().optional(),
  /** The hub the device was on when it asked (DPS's currentIotHubHostName), when reprovisioning. */
  previousHub: z.string().optional(),
  assignment: z.enum(['initial', 'reprovision']).optional(),
  /** The policy rule that decided. */
  rule: z.string().optional(),
  strategy: z.string().optional(),
  /** Why, without the device's payload values or secrets (src/decisions/reason.ts), at most 1,000 characters. */
  reason: z.string(),
});
export const deviceAssignedDataSchema = allocationBase.extend({
  outcome: z.literal('assigned'),
  hub: z.string().min(1),
});
export const deviceMovedDataSchema = deviceAssignedDataSchema.extend({ previousHub: z.string().min(1) });
export const allocationRejectedDataSchema = allocationBase.extend({
  outcome: z.enum(['rejected', 'invalid-request']),
});

/** One enrollment finding (a configuration check), raised or cleared. */
export const findingDataSchema = z.object({
  enrollmentKind: z.enum(['group', 'individual']),
  enrollmentId: z.string().min(1),
  /** The check, e.g. `webhook-without-key`, `certificate-expiring` (docs/events.md lists them). */
  code: z.string().min(1),
  message: z.string(),
});

export const eventDataSchemas = {
  'dps-allocator.problem.opened': problemOpenedDataSchema,
  'dps-allocator.problem.changed': problemChangedDataSchema,
  'dps-allocator.problem.resolved': problemResolvedDataSchema,
  'dps-allocator.device.assigned': deviceAssignedDataSchema,
  'dps-allocator.device.moved': deviceMovedDataSchema,
  'dps-allocator.allocation.rejected': allocationRejectedDataSchema,
  'dps-allocator.enrollment.finding-raised': findingDataSchema,
  'dps-allocator.enrollment.finding-cleared': findingDataSchema,
} as const satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/** One event as the producers make it and EventGridPublisherClient.send (CloudEvent schema) takes it. */
export type LifecycleEvent = {
  [T in EventType]: {
    type: T;
    /** Deterministic: the same fact gives the same id (ids.ts). */
    id: string;
    /** EVENTS_SOURCE. */
    source: string;
    /** The registration id (device and problem events) or the enrollment id (finding events). */
    subject?: string;
    /** When the fact happened. */
    time: Date;
    datacontenttype: 'application/json';
    data: EventData<T>;
  };
}[EventType];

/** The CloudEvents 1.0 JSON envelope of a published event (docs/events-contract.md §1). */
export const cloudEventSchema = z.looseObject({
  specversion: z.literal('1.0'),
  id: z.string().regex(/^[0-9a-f]{64}$/),
  source: z.string().min(1),
  type: z.enum(EVENT_TYPES),
  subject: z.string().optional(),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
});
export type CloudEventJson = z.infer<typeof cloudEventSchema>;

/** Checks an event as received: the envelope, then its type's data schema. Throws a ZodError naming the field. */
export function parseCloudEvent(json: unknown): CloudEventJson {
  const envelope = cloudEventSchema.parse(json);
  return { ...envelope, data: eventDataSchemas[envelope.type].parse(envelope.data) };
}

export { compact } from './compact';
