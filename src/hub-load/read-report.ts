// The hubs report from the app settings: the HubLoad table's rows and the allocation policy's caps. A policy that
// cannot be read leaves the caps out and says why; a table that cannot be read is a StorageError.
import { loadPolicy } from '../allocation/policy-source';
import type { Settings } from '../settings';
import { hubsReport, policyCapacities, type HubCapacity, type HubsReport } from './report';
import type { HubLoadStore } from './store';

export async function readHubsReport(
  store: Pick<HubLoadStore, 'readRows'>,
  settings: Settings,
  now = Date.now(),
): Promise<HubsReport> {
  let capacities = new Map<string, HubCapacity>();
  let policyError: string | undefined;
  try {
    capacities = policyCapacities(loadPolicy(settings));
  } catch (error) {
    policyError = (error as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 500);
  }
  return hubsReport({
    rows: await store.readRows(),
    capacities,
    counted: settings.HUB_LOAD_HUBS ?? [],
    maxAgeMs: settings.HUB_LOAD_MAX_AGE_SECONDS * 1000,
    now,
    policyError,
  });
}
