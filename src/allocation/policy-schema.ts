// The allocation policy file format. The JSON Schema in policies/policy.schema.json is generated from this.
import { z } from 'zod';
import { DURATION_PATTERN, DURATION_SYNTAX } from './duration';

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
// One definition in the JSON Schema ($defs), referenced by every field that takes a string matcher.
export const stringMatcherSchema = z
  .union([singleStringMatcherSchema, z.array(singleStringMatcherSchema).min(1)])
  .meta({ id: 'stringMatcher' });
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

/** An object whose only keys were unknown is reported for those keys, not again for having no known key. */
const noIssuesYet = (payload: { issues: readonly unknown[] }) => payload.issues.length === 0;

/** Attributes of a certificate name that conditions and templates read by name; DN is the whole name. */
export const CERTIFICATE_NAME_PARTS = ['CN', 'O', 'OU', 'DN'] as const;
export type CertificateNamePart = (typeof CERTIFICATE_NAME_PARTS)[number];

const certificateNameMatchSchema = z
  .strictObject({
    CN: stringMatcherSchema.optional().describe('Common name; with several CN values, any of them.'),
    O: stringMatcherSchema.optional().describe('Organisation; with several O values, any of them.'),
    OU: stringMatcherSchema.optional().describe('Organisational unit; with several OU values, any of them.'),
    DN: stringMatcherSchema
      .optional()
      .describe(
        'The whole distinguished name as DPS sends it, e.g. "CN=device-1, O=Contoso". Its attribute order is not confirmed: prefer CN, O, OU.',
      ),
  })
  .refine((name) => Object.keys(name).length > 0, {
    message: `a certificate name condition needs at least one of ${CERTIFICATE_NAME_PARTS.join(', ')}`,
    when: noIssuesYet,
  });
export type CertificateNameMatch = z.infer<typeof certificateNameMatchSchema>;

// Pairs of hex digits, optionally separated by a colon or a space, as certificate tools print them.
const hexPairs = (pairs: number) => `(?:[0-9A-Fa-f]{2}[:\\s]?){${pairs - 1}}[0-9A-Fa-f]{2}`;
const thumbprintSchema = z
  .string()
  .regex(new RegExp(`^(?:${hexPairs(20)}|${hexPairs(32)})$`), {
    message:
      'a thumbprint is 40 (SHA-1) or 64 (SHA-256) hex digits; colons or spaces between pairs are allowed',
  })
  .describe('SHA-1 or SHA-256 thumbprint, hex, any case.');

const durationSchema = z
  .string()
  .regex(DURATION_PATTERN, { message: `a duration is ${DURATION_SYNTAX}, e.g. "30d"` })
  .describe('A whole number and a unit: m (minutes), h (hours), d (days), w (weeks), e.g. "30d".');
const instantSchema = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error:
      'expected an ISO 8601 date ("2027-01-01", midnight UTC) or date-time with a zone ("2027-01-01T12:00:00Z")',
  })
  .describe('ISO 8601 date (midnight UTC) or date-time with Z or an offset.');

const expiryMatchSchema = z
  .strictObject({
    within: durationSchema
      .optional()
      .describe('The certificate expires within this long of the evaluation time (or has expired).'),
    before: instantSchema.optional().describe('notAfter is before this instant.'),
    after: instantSchema.optional().describe('notAfter is after this instant.'),
  })
  .refine((expiry) => Object.keys(expiry).length > 0, {
    message: 'a notAfter condition needs at least one of within, before, after',
    when: noIssuesYet,
  });
export type ExpiryMatch = z.infer<typeof expiryMatchSchema>;

export const certificateMatchSchema = z
  .strictObject({
    subject: certificateNameMatchSchema.optional().describe("The device certificate's subject."),
    issuer: certificateNameMatchSchema.optional().describe("The device certificate's issuer."),
    signingSubject: certificateNameMatchSchema
      .optional()
      .describe(
        'Subject of the signing (CA or intermediate) certificate the chain reached: group enrollments only.',
      ),
    thumbprint: z
      .union([thumbprintSchema, z.array(thumbprintSchema).min(1)])
      .optional()
      .describe('The device certificate is one of these (SHA-1 or SHA-256 thumbprints).'),
    notAfter: expiryMatchSchema.optional().describe('When the device certificate expires.'),
  })
  .describe(
    'Conditions on the device X.509 certificate (deviceRuntimeContext.x509). Never matches a device without certificate details, such as a symmetric-key or TPM device; {} matches every device that has them.',
  );
export type CertificateMatch = z.infer<typeof certificateMatchSchema>;

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
    x509: certificateMatchSchema.optional(),
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
export const leastLoadedStrategySchema = z
  .strictObject({
    type: z.literal('leastLoaded'),
  })
  .describe(
    'The candidate with the lowest fill: devices / maxDevices, or devices / weight for a hub without maxDevices; ties by the weighted hash. Without usable hub device counts: the weighted hash.',
  );
export const strategySchema = z.discriminatedUnion('type', [
  hashedStrategySchema,
  staticStrategySchema,
  geoStrategySchema,
  payloadMapStrategySchema,
  leastLoadedStrategySchema,
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
  .describe(
    'When none of the rule hubs is linked, or every one is full or draining: reject (400), use the fallback, or try the next rule.',
  );

const drainingHubSchema = z
  .enum(['move', 'keep'])
  .describe(
    'A reprovisioned device whose current hub is draining: move (default) chooses another hub even under sticky; keep lets sticky keep it there.',
  );

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
  onDrainingHub: drainingHubSchema.optional(),
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
  maxDevices: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'Device cap: with hub device counts, a hub holding this many devices or more takes no new device.',
    ),
  drain: z
    .boolean()
    .optional()
    .describe(
      'true: the hub takes no new device, and reprovisioned devices on it move (see onDrainingHub). Needs no device counts.',
    ),
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
        onDrainingHub: drainingHubSchema.optional(),
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
