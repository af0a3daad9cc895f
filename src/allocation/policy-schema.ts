// The allocation policy file format. The JSON Schema in policies/policy.schema.json is generated from this.
import { z } from 'zod';

const nonEmpty = z.string().min(1);

/** A glob (`*`, `?`), or `{ "regex": "..." }`, or a list of those (any of them matches). */
const singleStringMatcherSchema = z.union([
  nonEmpty.describe('Glob pattern: * matches any run of characters, ? one character. Case-insensitive.'),
  z.strictObject({
    glob: nonEmpty.describe('Glob pattern, case-insensitive.'),
  }),
  z.strictObject({
    regex: nonEmpty.describe('JavaScript regular expression (unanchored unless you add ^ and $).'),
    caseSensitive: z.boolean().optional().describe('Default false.'),
  }),
]);
export const stringMatcherSchema = z.union([
  singleStringMatcherSchema,
  z.array(singleStringMatcherSchema).min(1),
]);
export type StringMatcher = z.infer<typeof stringMatcherSchema>;

export const payloadConditionSchema = z
  .strictObject({
    equals: z.unknown().optional().describe('The field equals this JSON value.'),
    in: z.array(z.unknown()).min(1).optional().describe('The field equals one of these JSON values.'),
    exists: z
      .boolean()
      .optional()
      .describe('true: the field is present (and not null); false: it is absent.'),
    regex: nonEmpty.optional().describe('The field is a string matching this regular expression.'),
  })
  .refine((c) => Object.keys(c).length === 1, {
    message: 'a payload condition has exactly one of equals, in, exists, regex',
  });
export type PayloadCondition = z.infer<typeof payloadConditionSchema>;

export const attestationTypes = ['symmetricKey', 'x509', 'tpm'] as const;

export const matchSchema = z
  .strictObject({
    registrationId: stringMatcherSchema.optional().describe('Matches deviceRuntimeContext.registrationId.'),
    enrollmentGroupId: stringMatcherSchema
      .optional()
      .describe('Matches the enrollment group id; never matches individual enrollments.'),
    enrollmentKind: z
      .enum(['group', 'individual'])
      .optional()
      .describe(
        'group: registrations through an enrollment group; individual: through an individual enrollment.',
      ),
    attestation: z
      .union([z.enum(attestationTypes), z.array(z.enum(attestationTypes)).min(1)])
      .optional()
      .describe('Attestation type of the enrollment.'),
    payload: z
      .record(nonEmpty, payloadConditionSchema)
      .optional()
      .describe(
        'Conditions on the device payload, keyed by a dotted path such as "model.id". All must hold.',
      ),
    iotEdge: z.boolean().optional().describe('Matches the enrollment capabilities.iotEdge.'),
    assignment: z
      .enum(['initial', 'reprovision'])
      .optional()
      .describe('initial: no current hub; reprovision: the device has a currentIotHubHostName.'),
  })
  .describe('All given conditions must hold. An empty or absent match matches every device.');
export type Match = z.infer<typeof matchSchema>;

export const hashedStrategySchema = z.strictObject({
  type: z.literal('hashed'),
});
export const staticStrategySchema = z.strictObject({
  type: z.literal('static'),
});
export const geoStrategySchema = z.strictObject({
  type: z.literal('geo'),
  regionField: nonEmpty.describe('Dotted path of the region in the device payload, e.g. "region".'),
  onUnknownRegion: z
    .enum(['hashed', 'reject'])
    .optional()
    .describe('When the payload has no region, or no candidate is in its region table. Default hashed.'),
});
export const payloadMapStrategySchema = z.strictObject({
  type: z.literal('payloadMap'),
  field: nonEmpty.describe('Dotted path of the payload field whose value names the hub.'),
  map: z
    .record(z.string(), nonEmpty)
    .optional()
    .describe(
      'Field value -> hub alias or host name. Without a map the value itself is an alias or host name.',
    ),
  onMissing: z
    .enum(['hashed', 'reject'])
    .optional()
    .describe('When the field is absent or names no candidate hub. Default reject.'),
});
export const strategySchema = z.discriminatedUnion('type', [
  hashedStrategySchema,
  staticStrategySchema,
  geoStrategySchema,
  payloadMapStrategySchema,
]);
export type Strategy = z.infer<typeof strategySchema>;

const twinCollectionTemplateSchema = z.record(z.string(), z.unknown());
export const initialTwinTemplateSchema = z.strictObject({
  tags: twinCollectionTemplateSchema.optional(),
  properties: z.strictObject({ desired: twinCollectionTemplateSchema.optional() }).optional(),
});
export type InitialTwinTemplate = z.infer<typeof initialTwinTemplateSchema>;

const reprovisionSchema = z
  .enum(['sticky', 'reallocate'])
  .describe('sticky: a reprovisioned device keeps its current hub when it is still a candidate.');

const noCandidateSchema = z
  .enum(['reject', 'fallback', 'nextRule'])
  .describe('When none of the rule hubs is linked: reject (400), use the fallback, or try the next rule.');

/** What a rule or the fallback does once chosen: which hubs, how to pick one, what to return. */
const allocationShape = {
  hubs: z
    .array(nonEmpty)
    .min(1)
    .optional()
    .describe(
      'Candidate hubs, in order of preference: aliases of "hubs", host names, or glob patterns over linkedHubs. Default: every linked hub.',
    ),
  strategy: strategySchema
    .optional()
    .describe('How to choose among the candidates. Default: defaults.strategy.'),
  reprovision: reprovisionSchema.optional(),
  initialTwin: initialTwinTemplateSchema
    .optional()
    .describe('Initial twin template. Strings may hold {{placeholders}}.'),
  payload: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Payload returned to the device (a JSON object template).'),
};

export const ruleSchema = z.strictObject({
  name: nonEmpty.describe('Unique rule name, shown in logs and explanations.'),
  description: z.string().optional(),
  match: matchSchema.optional(),
  ...allocationShape,
  onNoCandidate: noCandidateSchema.optional(),
});
export type Rule = z.infer<typeof ruleSchema>;

export const fallbackSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('reject'),
    message: z.string().optional().describe('Reason given in the 400 answer.'),
  }),
  z.strictObject({ action: z.literal('allocate'), ...allocationShape }),
]);
export type Fallback = z.infer<typeof fallbackSchema>;

export const hubSchema = z.strictObject({
  hostName: nonEmpty.describe('IoT hub host name, e.g. contoso-hub.azure-devices.net.'),
  weight: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('Weight for hashed choices (1-1000, default 1).'),
  region: nonEmpty.optional().describe('Region of the hub, for the geo strategy.'),
});
export type Hub = z.infer<typeof hubSchema>;

export const policySchema = z
  .strictObject({
    $schema: z.string().optional(),
    description: z.string().optional(),
    hubs: z.record(nonEmpty, hubSchema).default({}).describe('Known IoT hubs by alias.'),
    regions: z
      .record(nonEmpty, z.array(nonEmpty).min(1))
      .default({})
      .describe('Device region -> hub regions, nearest first (the geo strategy).'),
    defaults: z
      .strictObject({
        strategy: strategySchema.optional(),
        reprovision: reprovisionSchema.optional(),
        onNoCandidate: noCandidateSchema.optional(),
      })
      .default({}),
    rules: z
      .array(ruleSchema)
      .default([])
      .describe('Evaluated in order; the first rule that matches decides.'),
    fallback: fallbackSchema
      .default({ action: 'reject' })
      .describe('What happens when no rule matches (and for onNoCandidate: fallback).'),
  })
  .describe('dps-allocator allocation policy');
export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
