// DPS DeviceOperations resource log records: one JSON object per line of an archived blob. The only records the
// audit reads are attestation attempts (operationName `AttestationAttempt`, the registration id in `properties.id`:
// learn.microsoft.com/azure/iot-dps/monitor-iot-dps-reference). That page shows the Log Analytics form
// (`OperationName`, `properties_s` as a JSON string); records archived to storage use the resource log schema
// (`operationName`, `properties`: learn.microsoft.com/azure/azure-monitor/essentials/resource-logs-schema). Which
// one DPS writes to storage is UNCONFIRMED (docs/dps-contract.md §4.4), so both are read, keys in any case.
import { z } from 'zod';

export interface AttestationAttempt {
  registrationId: string;
  at: Date;
  succeeded: boolean;
  /** `Mqtt`, `Http`, `Amqp` as DPS names them; absent when the record has none. */
  protocol?: string;
  /** The HTTP status of a refusal, e.g. `401`. */
  resultSignature?: string;
  /** DPS's error details of a refusal. */
  resultDescription?: string;
}

const text = z
  .union([z.string(), z.number()])
  .transform((value) => String(value).trim())
  .optional();

const recordSchema = z.object({
  time: z.string().optional(),
  timegenerated: z.string().optional(),
  category: text,
  operationname: text,
  resulttype: text,
  resultsignature: text,
  resultdescription: text,
  properties: z.unknown().optional(),
  properties_s: z.unknown().optional(),
});

const propertiesSchema = z.object({ id: z.string().min(1), protocol: text });

function lowerCaseKeys(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key.toLowerCase(), item]));
}

function propertiesOf(value: unknown): z.infer<typeof propertiesSchema> | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const properties = propertiesSchema.safeParse(lowerCaseKeys(parsed));
  return properties.success ? properties.data : undefined;
}

/**
 * The attestation attempt one log line records; `undefined` for another kind of record, `malformed` for a line
 * that is not such a record at all (counted, never fatal: the rest of the blob is still read).
 */
export function attestationAttemptOf(line: string): AttestationAttempt | undefined | 'malformed' {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return 'malformed';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'malformed';
  const record = recordSchema.safeParse(lowerCaseKeys(json));
  if (!record.success) return 'malformed';
  const { data } = record;
  if (data.operationname?.toLowerCase() !== 'attestationattempt') return undefined;
  if (data.category !== undefined && data.category.toLowerCase() !== 'deviceoperations') return undefined;
  const properties = propertiesOf(data.properties ?? data.properties_s);
  const atMs = Date.parse(data.time ?? data.timegenerated ?? '');
  if (!properties || Number.isNaN(atMs)) return 'malformed';
  const succeeded = data.resulttype?.toLowerCase() === 'success';
  return {
    registrationId: properties.id,
    at: new Date(atMs),
    succeeded,
    protocol: properties.protocol || undefined,
    resultSignature: succeeded ? undefined : data.resultsignature || undefined,
    resultDescription: succeeded ? undefined : data.resultdescription || undefined,
  };
}
