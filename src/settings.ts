// Every app setting the functions read, validated once. Names, defaults and descriptions here are the
// reference: the README's settings table and the Bicep app settings are checked against this schema.
import { z } from 'zod';
import { parseServiceConnectionString } from './dps/sas';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** The non-empty, trimmed entries of a list setting. */
const splitList = (separator: RegExp) => (value: string) =>
  value
    .split(separator)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');

/** A host name (no scheme, port or path): what HUB_LOAD_HUBS lists. */
const HUB_HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
/** DPS links at most 50 hubs (learn.microsoft.com/azure/iot-dps/about-iot-dps#quotas-and-limits). */
const MAX_LOAD_HUBS = 50;

function isServiceConnectionString(value: string): boolean {
  try {
    parseServiceConnectionString(value);
    return true;
  } catch {
    return false;
  }
}

export const settingsSchema = z.object({
  ALLOCATION_POLICY: z
    .string()
    .min(1)
    .optional()
    .describe('Inline allocation policy JSON. When set, it is used instead of ALLOCATION_POLICY_PATH.'),
  ALLOCATION_POLICY_PATH: z
    .string()
    .min(1)
    .default('policies/default.policy.json')
    .describe(
      'Path of the allocation policy file, absolute or relative to the app root (where host.json is).',
    ),
  ALLOCATE_MAX_BODY_BYTES: positiveInt(128 * 1024).describe(
    'Largest webhook request body accepted, in bytes; larger bodies get a 400.',
  ),
  // The audit's settings: all optional or defaulted, so that the allocate function starts without them. What the
  // audit cannot run without (a DPS connection) is checked when it runs, naming the missing setting.
  DPS_CONNECTION_STRING: z
    .string()
    .min(1)
    .optional()
    .describe(
      'DPS service connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...), for the audit. ' +
        'A policy with EnrollmentRead and RegistrationStatusRead is enough. Takes precedence over DPS_HOST_NAME.',
    ),
  DPS_HOST_NAME: z
    .string()
    .min(1)
    .optional()
    .describe(
      'DPS service host name (mydps.azure-devices-provisioning.net) for the audit with Microsoft Entra ID ' +
        '(the managed identity needs the Device Provisioning Service Data Reader role). Used without DPS_CONNECTION_STRING.',
    ),
  DPS_CA_CERTIFICATE_PATH: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Extra CA certificate (PEM file) to trust for DPS: the local DPS emulator only. Leave empty in Azure.',
    ),
  AUDIT_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, 'must be a six-field NCRONTAB expression such as 0 */5 * * * *')
    .default('0 */5 * * * *')
    .describe('When the audit timer runs (NCRONTAB, seconds first, UTC).'),
  AUDIT_TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,39}$/, 'must be a letter followed by up to 39 letters or digits')
    .default('Audit')
    .describe(
      'Prefix of the audit tables: <prefix>Problems, <prefix>History, <prefix>EnrollmentFindings, ...',
    ),
  AUDIT_STORAGE_CONNECTION_STRING: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Storage connection string for the audit tables. Default: AzureWebJobsStorage when it is a connection ' +
        'string, else the managed identity with AzureWebJobsStorage__tableServiceUri (and __clientId).',
    ),
  AUDIT_TIME_BUDGET_SECONDS: positiveInt(240).describe(
    'A scan run stops before this many seconds (keep it well under the Functions timeout) and resumes on the next run.',
  ),
  AUDIT_MAX_OPERATIONS_PER_RUN: z.coerce
    .number()
    .int()
    .min(10, 'must be at least 10: a run lists the enrollment groups before it reads a page of devices')
    .default(2000)
    .describe('A scan run stops before sending more DPS operations than this, and resumes on the next run.'),
  AUDIT_DPS_OPERATIONS_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(500)
    .describe('Most DPS operations the audit sends per minute (DPS allows 1,000 per minute for everything).'),
  AUDIT_ASSIGNING_GRACE_MINUTES: z.coerce
    .number()
    .min(0)
    .default(10)
    .describe('A registration still assigning after this many minutes is recorded as stuck.'),
  AUDIT_LAST_SEEN_REFRESH_HOURS: z.coerce
    .number()
    .min(0)
    .default(24)
    .describe(
      'lastSeen of an unchanged open problem is rewritten only when older than this, so rescans cost no writes. ' +
        'It also bounds how long a deleted device stays open when its group took several runs to scan.',
    ),
  AUDIT_EXPECTED_WEBHOOK_URL: z
    .url()
    .optional()
    .describe(
      'The allocate URL enrollments should call (query ignored). Default: https://<WEBSITE_HOSTNAME>/api/allocate.',
    ),
  AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3650)
    .default(30)
    .describe(
      'An enrollment X.509 certificate that expires within this many days is a certificate-expiring finding ' +
        '(0: only expired and not yet valid certificates are).',
    ),
  AUDIT_DPS_LOGS_CONTAINER: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Blob container holding the DPS's DeviceOperations resource logs, archived by a diagnostic setting to the " +
        "audit's storage account (Azure Monitor names it insights-logs-deviceoperations). The audit reads " +
        'attestation failures there: devices DPS refuses at attestation keep no registration state. Empty: not read.',
    ),
  AUDIT_DPS_LOGS_PREFIX: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Blob name prefix within AUDIT_DPS_LOGS_CONTAINER, resourceId=<the DPS's resource id in upper case>/, so that " +
        "other resources' logs archived there are left out. Empty: every blob of the container.",
    ),
  AUDIT_DPS_LOGS_LOOKBACK_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(720)
    .default(24)
    .describe(
      'Hours of archived DPS logs the audit reads the first time it reads them; later runs go on from where the ' +
        'last one stopped.',
    ),
  AUDIT_PAGE_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .describe('Items per DPS query page (x-ms-max-item-count).'),
  // The decision log: every allocate decision as a row of <AUDIT_TABLE_PREFIX>Decisions, on the audit's storage.
  DECISION_LOG_ENABLED: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true')
    .describe(
      'Whether allocate records each decision in the <AUDIT_TABLE_PREFIX>Decisions table (on the audit storage). ' +
        'Without a storage connection the log is off and allocation goes on.',
    ),
  DECISION_LOG_MAX_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(5000)
    .default(100)
    .describe(
      'Longest allocate waits for its decision row to be written before answering DPS; a row not written by ' +
        'then stays queued and is written in the background. 0: never wait.',
    ),
  DECISION_LOG_MAX_QUEUE: z.coerce
    .number()
    .int()
    .min(100)
    .max(1_000_000)
    .default(10_000)
    .describe(
      'Most decision rows held in memory while table storage is unreachable; beyond it the oldest are dropped ' +
        '(and the count is logged).',
    ),
  // Lifecycle events: CloudEvents 1.0 published to an Event Grid topic (docs/events.md). Off without an endpoint.
  EVENTS_TOPIC_ENDPOINT: z
    .url({
      // http only for the local topic emulator: a key must not cross a network in clear text.
      protocol: /^https?$/,
      error: 'must be the topic endpoint URL, https://<topic>.<region>-1.eventgrid.azure.net/api/events',
    })
    .refine((value) => !value.startsWith('http:') || /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(value), {
      message: 'http is accepted only for 127.0.0.1 or localhost (the local topic); use https',
    })
    .refine((value) => new URL(value).pathname.replace(/\/+$/, '').endsWith('/api/events'), {
      message: 'must end in /api/events (the topic endpoint the Azure portal and Bicep output show)',
    })
    .optional()
    .describe(
      'Event Grid topic endpoint (input schema CloudEvents 1.0) that receives the lifecycle events. Empty: no ' +
        'events are published.',
    ),
  EVENTS_TOPIC_KEY: z
    .string()
    .min(1)
    .optional()
    .describe(
      'An access key of the topic (sent as aeg-sas-key). Empty: the app identity is used, which needs the ' +
        'EventGrid Data Sender role on the topic.',
    ),
  EVENTS_SOURCE: z
    .string()
    .min(1)
    .default('/dps-allocator')
    .describe(
      'The CloudEvents source of every event (a URI reference naming this deployment); subscribers de-duplicate ' +
        'by source and id.',
    ),
  EVENTS_MAX_QUEUE: z.coerce
    .number()
    .int()
    .min(100)
    .max(1_000_000)
    .default(10_000)
    .describe(
      'Most events held in memory while the topic is unreachable; beyond it the oldest are dropped (and the ' +
        'count is logged).',
    ),
  // Hub load: the hub-load timer reads each hub's registry statistics into <AUDIT_TABLE_PREFIX>HubLoad (on the audit's
  // storage); allocate keeps a copy, refreshed in the background, for capacity-aware strategies.
  HUB_LOAD_HUBS: z
    .string()
    .transform(splitList(/,/))
    .pipe(
      z
        .array(
          z
            .string()
            .regex(HUB_HOST_NAME, 'each entry must be a hub host name such as contoso-hub.azure-devices.net'),
        )
        .max(MAX_LOAD_HUBS, `at most ${MAX_LOAD_HUBS} hubs`),
    )
    .transform((hosts) => [...new Set(hosts.map((host) => host.toLowerCase()))])
    .optional()
    .describe(
      'Comma-separated host names of the IoT hubs whose device counts the hub-load timer reads (registry ' +
        'statistics) for capacity-aware allocation. Empty: the timer does nothing and allocation has no counts.',
    ),
  HUB_LOAD_CONNECTION_STRINGS: z
    .string()
    .transform(splitList(/[\n|]/))
    // The message never quotes the value: it holds a key.
    .refine((entries) => entries.every(isServiceConnectionString), {
      message:
        'each entry must be a hub connection string HostName=...;SharedAccessKeyName=...;SharedAccessKey=...',
    })
    .optional()
    .describe(
      'Hub connection strings (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...), separated by newlines ' +
        'or |, for SAS instead of the managed identity (which needs IoT Hub Data Reader on each hub). A policy ' +
        'with RegistryRead is enough. Hubs without one use the identity.',
    ),
  HUB_LOAD_ENDPOINT: z
    .url({ protocol: /^https$/, error: 'must be an https URL such as https://127.0.0.1:8444' })
    .optional()
    .describe(
      "Where every hub's requests go instead of https://<hub host> (the Host header stays the hub's): the local " +
        'IoT Hub emulator only. Leave empty in Azure.',
    ),
  HUB_LOAD_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, 'must be a six-field NCRONTAB expression such as 0 */1 * * * *')
    .default('0 */1 * * * *')
    .describe("When the hub-load timer reads the hubs' device counts (NCRONTAB, seconds first, UTC)."),
  HUB_LOAD_REFRESH_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(30)
    .describe('How often allocate reloads the hub device counts from the HubLoad table, in the background.'),
  HUB_LOAD_MAX_AGE_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(300)
    .describe(
      'Hub device counts older than this are stale: capacity-aware strategies then fall back to the hash and say so.',
    ),
});

export type Settings = z.infer<typeof settingsSchema>;

/** An app setting holds a value of the wrong shape; the message names each bad setting. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** What a feature needs is not configured (no storage account, no DPS access); the message says what to set. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** Validates the environment's app settings; throws SettingsError naming each bad setting. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = settingsSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new SettingsError(`Invalid app settings:\n${lines.join('\n')}`);
  }
  return result.data;
}
