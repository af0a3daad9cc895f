// Child process of the audit benchmark: the peer. The same audit written the straightforward way a user of the
// official packages would: azure-iot-provisioning-service queries (every enrollment group, each group's
// registration states, the individual enrollments), paged with next(continuationToken) (without the token the SDK
// repeats the first page, docs/dps-contract.md §7.1), the same problem statuses, and for each problem one
// awaited @azure/data-tables upsertEntity (Replace) of its problem row, plus, when asked, one of a history
// row. No batching and no diff: a rescan writes the same rows again. The SDK client is the keep-alive one
// (bench/support/sdk-service-client.ts), as Node's global agent would give a deployed function.
import { TableClient } from '@azure/data-tables';
import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import type { Query } from 'azure-iot-provisioning-service/dist/query';
import { serveScans, type ScanCounts, type ScanRequest } from './scanner-protocol';
import { createKeepAliveSdkServiceClient } from './sdk-service-client';

/** What the peer reads of a registration state (the SDK's typings say Date where the JSON has strings). */
interface RegistrationState {
  registrationId: string;
  status?: string;
  substatus?: string;
  errorCode?: number;
  errorMessage?: string;
  assignedHub?: string;
  deviceId?: string;
  lastUpdatedDateTimeUtc?: string;
}

interface ScanState {
  sdk: ProvisioningServiceClient;
  problems: TableClient;
  history: TableClient | undefined;
  graceMs: number;
  counts: ScanCounts;
}

/** The audit's problem statuses: failed, unassigned, disabled, and assigning for longer than the grace period. */
function isProblem(state: RegistrationState, nowMs: number, graceMs: number): boolean {
  switch (state.status) {
    case 'failed':
    case 'unassigned':
    case 'disabled':
      return true;
    case 'assigning': {
      const updated = Date.parse(state.lastUpdatedDateTimeUtc ?? '');
      return Number.isNaN(updated) || nowMs - updated > graceMs;
    }
    default:
      return false;
  }
}

/** Every page of a query, in turn. */
async function* pagesOf<T>(query: Query, counts: ScanCounts): AsyncGenerator<T[]> {
  do {
    const page = await query.next(query.continuationToken);
    counts.dpsOperations++;
    yield page.responseBody as unknown as T[];
  } while (query.hasMoreResults);
}

async function record(scan: ScanState, partitionKey: string, state: RegistrationState): Promise<void> {
  scan.counts.registrations++;
  if (!isProblem(state, Date.now(), scan.graceMs)) return;
  scan.counts.problems++;
  const now = new Date();
  await scan.problems.upsertEntity(
    {
      partitionKey,
      rowKey: state.registrationId,
      registrationId: state.registrationId,
      status: state.status,
      substatus: state.substatus,
      errorCode: state.errorCode,
      errorMessage: state.errorMessage,
      assignedHub: state.assignedHub,
      deviceId: state.deviceId,
      dpsLastUpdated: state.lastUpdatedDateTimeUtc ? new Date(state.lastUpdatedDateTimeUtc) : undefined,
      lastSeen: now,
    },
    'Replace',
  );
  scan.counts.entitiesWritten++;
  if (!scan.history) return;
  await scan.history.upsertEntity(
    {
      partitionKey,
      rowKey: `${state.registrationId}|${state.status}`,
      registrationId: state.registrationId,
      status: state.status,
      errorCode: state.errorCode,
      at: now,
    },
    'Replace',
  );
  scan.counts.entitiesWritten++;
}

async function registrationStateOf(
  scan: ScanState,
  registrationId: string,
): Promise<RegistrationState | undefined> {
  try {
    scan.counts.dpsOperations++;
    const result = await scan.sdk.getDeviceRegistrationState(registrationId);
    return result.responseBody as unknown as RegistrationState;
  } catch (error) {
    if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return undefined;
    throw error;
  }
}

async function scanAll(scan: ScanState, pageSize: number): Promise<void> {
  const { sdk, counts } = scan;
  const groupIds: string[] = [];
  for await (const page of pagesOf<{ enrollmentGroupId: string }>(
    sdk.createEnrollmentGroupQuery({ query: '*' }, pageSize),
    counts,
  )) {
    groupIds.push(...page.map((group) => group.enrollmentGroupId));
  }
  for (const groupId of groupIds) {
    const query = sdk.createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, groupId, pageSize);
    for await (const page of pagesOf<RegistrationState>(query, counts)) {
      for (const state of page) await record(scan, groupId, state);
    }
  }
  const individuals = sdk.createIndividualEnrollmentQuery({ query: '*' }, pageSize);
  for await (const page of pagesOf<{ registrationId: string; registrationState?: RegistrationState }>(
    individuals,
    counts,
  )) {
    for (const enrollment of page) {
      // The query may leave registrationState out (docs/dps-contract.md §2.6): then one GET each.
      const state =
        enrollment.registrationState ?? (await registrationStateOf(scan, enrollment.registrationId));
      if (state) await record(scan, 'individual', state);
    }
  }
}

async function scan(request: ScanRequest): Promise<ScanCounts> {
  const sdk = createKeepAliveSdkServiceClient(request.dps, request.dps.sdkServiceConnectionString);
  const table = (suffix: string) =>
    TableClient.fromConnectionString(request.storageConnectionString, `${request.tablePrefix}${suffix}`, {
      allowInsecureConnection: true, // Azurite's http endpoint
    });
  try {
    const state: ScanState = {
      sdk: sdk.client,
      problems: table('Problems'),
      history: request.historyRows ? table('History') : undefined,
      graceMs: request.assigningGraceMinutes * 60_000,
      counts: { registrations: 0, problems: 0, entitiesWritten: 0, dpsOperations: 0 },
    };
    await state.problems.createTable();
    await state.history?.createTable();
    await scanAll(state, request.pageSize);
    return state.counts;
  } finally {
    sdk.close();
  }
}

serveScans(scan);
