// Fast seeding for tests and benchmarks: K enrollment groups with N registration states each, in chosen
// statuses (failed ones with realistic custom-allocation error codes), inserted in bulk. The statuses are
// shuffled with a seeded PRNG, so failures are spread over every page and a run is reproducible.
import { z } from 'zod';
import type { LinkedHub } from './allocation';
import { hashedHubPicker } from './allocation';
import { prepareEnrollmentGroup } from './enrollments';
import { assertValidId, idKey } from './ids';
import { createRandom } from './rng';
import type { EmulatorStore, RegistrationRecord } from './store';

export const SEEDED_STATUSES = ['assigned', 'failed', 'unassigned', 'assigning', 'disabled'] as const;

/** What failed seeded registrations carry, in turn (messages as the emulator's webhook mapping writes them). */
export const DEFAULT_SEED_FAILURES: ReadonlyArray<{ errorCode: number; errorMessage: string }> = [
  { errorCode: 400207, errorMessage: 'Custom allocation failed with status code: 400' },
  {
    errorCode: 400208,
    errorMessage: 'Custom allocation failed: the webhook did not specify an IoT hub (iotHubHostName)',
  },
  { errorCode: 400209, errorMessage: 'Custom allocation failed with status code: 401' },
  { errorCode: 400207, errorMessage: 'Custom allocation failed with status code: 503' },
];

const count = z.number().int().min(0).max(1_000_000);

export const seedOptionsSchema = z
  .object({
    /** Number of groups (K), named `${groupIdPrefix}${n}` (n from 1, three digits). Ignored with groupIds. */
    groups: z.number().int().min(1).max(1000).default(1),
    groupIdPrefix: z.string().default('seed-group-'),
    /** Explicit group ids; existing groups are reused as they are, missing ones created. */
    groupIds: z.array(z.string()).min(1).optional(),
    /** Registration states per group, per status. */
    perGroup: z.partialRecord(z.enum(SEEDED_STATUSES), count),
    /** Registration ids are `${groupId}-${registrationIdInfix}${index}` (index zero-padded). */
    registrationIdInfix: z.string().default('device-'),
    /** Allocation policy of the groups created; custom needs webhookUrl. */
    allocationPolicy: z.enum(['hashed', 'custom']).default('hashed'),
    webhookUrl: z.string().optional(),
    failures: z
      .array(z.object({ errorCode: z.number().int(), errorMessage: z.string() }))
      .min(1)
      .optional(),
    /** PRNG seed of the status shuffle. */
    seed: z.number().int().default(1),
  })
  .refine((options) => options.allocationPolicy !== 'custom' || options.webhookUrl !== undefined, {
    message: 'allocationPolicy custom needs webhookUrl',
  });

export type SeedOptions = z.input<typeof seedOptionsSchema>;

export interface SeedResult {
  groupIds: string[];
  /** Registration states written. */
  registrations: number;
  perStatus: Record<string, number>;
  durationMs: number;
}

export function seedStore(
  store: EmulatorStore,
  linkedHubs: readonly LinkedHub[],
  input: SeedOptions,
): SeedResult {
  const started = performance.now();
  const options = seedOptionsSchema.parse(input);
  const groupIds =
    options.groupIds ??
    Array.from(
      { length: options.groups },
      (_, i) => `${options.groupIdPrefix}${String(i + 1).padStart(3, '0')}`,
    );
  const failures = options.failures ?? DEFAULT_SEED_FAILURES;
  const statuses: string[] = [];
  for (const status of SEEDED_STATUSES) {
    for (let i = 0; i < (options.perGroup[status] ?? 0); i++) statuses.push(status);
  }
  const width = Math.max(6, String(statuses.length).length);
  const random = createRandom(options.seed);
  const perStatus: Record<string, number> = {};
  const records: RegistrationRecord[] = [];
  const nowMs = Date.now();

  for (const groupId of groupIds) {
    assertValidId(groupId, 'enrollmentGroupId');
    const group =
      store.getGroup(groupId) ??
      store.putGroup(
        prepareEnrollmentGroup(
          {
            enrollmentGroupId: groupId,
            attestation: { type: 'symmetricKey' },
            allocationPolicy: options.allocationPolicy,
            ...(options.webhookUrl
              ? { customAllocationDefinition: { webhookUrl: options.webhookUrl, apiVersion: '2021-10-01' } }
              : {}),
          },
          groupId,
          linkedHubs,
        ),
      ).stored;
    const pickHub = hashedHubPicker(group.value, linkedHubs);
    const order = shuffled(statuses, random);
    if (order.length > 0) {
      const longest = `${group.value.enrollmentGroupId}-${options.registrationIdInfix}${'0'.repeat(width)}`;
      assertValidId(longest, 'seeded registrationId');
    }
    let failureIndex = 0;
    for (let i = 0; i < order.length; i++) {
      const status = order[i] as (typeof SEEDED_STATUSES)[number];
      const registrationId = `${group.value.enrollmentGroupId}-${options.registrationIdInfix}${String(i).padStart(width, '0')}`;
      const record = store.newRegistration(registrationId, group.key);
      // Spread creation times over the past, one second apart.
      record.createdMs = nowMs - (order.length - i) * 1000;
      record.updatedMs = record.createdMs;
      record.status = status;
      if (status === 'assigned') {
        const hub = pickHub(registrationId);
        record.assignedHub = hub;
        record.initialHub = hub;
        record.deviceId = registrationId;
        record.substatus = 'initialAssignment';
      } else if (status === 'failed') {
        const failure = failures[failureIndex++ % failures.length]!;
        record.errorCode = failure.errorCode;
        record.errorMessage = failure.errorMessage;
      }
      perStatus[status] = (perStatus[status] ?? 0) + 1;
      records.push(record);
    }
  }
  store.bulkInsertRegistrations(records);
  return {
    groupIds: groupIds.map((id) => store.getGroup(idKey(id))!.value.enrollmentGroupId),
    registrations: records.length,
    perStatus,
    durationMs: performance.now() - started,
  };
}

/** Fisher-Yates on a copy. */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = copy[i]!;
    copy[i] = copy[j]!;
    copy[j] = swap;
  }
  return copy;
}
