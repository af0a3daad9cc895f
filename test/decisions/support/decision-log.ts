// Shared pieces of the decision log tests: a storage endpoint that accepts connections and never answers, DPS
// request bodies, a notice recorder, and table reads.
import { TableClient } from '@azure/data-tables';
import { decisionRowSchema, type DecisionRow } from '../../../src/decisions/table';
import type { DecisionNotices } from '../../../src/decisions/writer';
import {
  dpsRequestBody,
  HEATPUMPS_HUB,
  SAMPLE_GROUP_ID,
  TOASTERS_HUB,
} from '../../../dev/fixtures/dps-requests';

export { startSilentServer, storageConnectionString, type SilentServer } from '../../support/silent-server';
export { HEATPUMPS_HUB, TOASTERS_HUB };

export interface RecordedNotices extends DecisionNotices {
  lines: { level: 'info' | 'warn'; message: string }[];
  warnings(): string[];
  infos(): string[];
}

export function recordNotices(): RecordedNotices {
  const lines: RecordedNotices['lines'] = [];
  return {
    lines,
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    warnings: () => lines.filter((line) => line.level === 'warn').map((line) => line.message),
    infos: () => lines.filter((line) => line.level === 'info').map((line) => line.message),
  };
}

/** Every row of a decision table, as stored (raw entities), in key order. */
export async function tableEntities(
  connectionString: string,
  table: string,
): Promise<Record<string, unknown>[]> {
  const client = TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true });
  const rows: Record<string, unknown>[] = [];
  try {
    for await (const entity of client.listEntities()) rows.push(entity as Record<string, unknown>);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return [];
    throw error;
  }
  return rows;
}

export async function tableRows(connectionString: string, table: string): Promise<DecisionRow[]> {
  return (await tableEntities(connectionString, table)).map((entity) => decisionRowSchema.parse(entity));
}

/** Polls until `check` holds (or `timeoutMs` passes) and returns its last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A DPS request body of a group member (docs/dps-contract.md §1.2); the webhook URL carries a key to redact. */
export function groupRequest(
  registrationId: string,
  options: {
    group?: string;
    linkedHubs?: string[];
    currentHub?: string;
    payload?: Record<string, unknown>;
  } = {},
): string {
  return JSON.stringify(
    dpsRequestBody({
      registrationId,
      group: options.group ?? SAMPLE_GROUP_ID,
      attestation: 'symmetricKey',
      linkedHubs: options.linkedHubs ?? [TOASTERS_HUB, HEATPUMPS_HUB],
      currentHub: options.currentHub,
      payload: options.payload,
      webhookUrl: 'https://app.azurewebsites.net/api/allocate?code=secret-function-key',
    }),
  );
}
