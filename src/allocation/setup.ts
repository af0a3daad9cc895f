// Builds the webhook from app settings, once per worker: an invalid setting or policy fails start-up.
import { readSettings } from '../settings';
import { compilePolicy } from './engine';
import { loadPolicy } from './policy-source';
import type { HubLoadView } from './hub-load';
import { answerAllocationRequest, type WebhookAnswer } from './webhook';

/** `now`: the evaluation time in ms since the epoch (certificate expiry); the function passes Date.now(). */
export type AllocationWebhook = (body: string, now?: number) => WebhookAnswer;

/** Where the webhook reads how full the hubs are, and reports each device it adds to a hub (src/hub-load's cache). */
export interface HubLoadSource {
  /** Synchronous: never a storage call on a request's path. */
  view(): HubLoadView;
  recordAssignment(hostName: string): void;
}

/** `hubLoad`: the hubs' device counts for capacity-aware strategies; without it the engine has none. */
export function createAllocationWebhook(
  env: NodeJS.ProcessEnv = process.env,
  hubLoad?: HubLoadSource,
): AllocationWebhook {
  const settings = readSettings(env);
  const allocator = compilePolicy(loadPolicy(settings));
  const options = { maxBodyBytes: settings.ALLOCATE_MAX_BODY_BYTES };
  if (!hubLoad) return (body, now) => answerAllocationRequest(allocator, body, options, now);
  return (body, now) => {
    const answer = answerAllocationRequest(allocator, body, options, now, hubLoad.view());
    if (answer.addedTo !== undefined) hubLoad.recordAssignment(answer.addedTo);
    return answer;
  };
}
