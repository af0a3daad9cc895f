// Builds the webhook from app settings, once per worker: an invalid setting or policy fails start-up.
import { readSettings } from '../settings';
import { compilePolicy } from './engine';
import { loadPolicy } from './policy-source';
import { answerAllocationRequest, type WebhookAnswer } from './webhook';

/** `now`: the evaluation time in ms since the epoch (certificate expiry); the function passes Date.now(). */
export type AllocationWebhook = (body: string, now?: number) => WebhookAnswer;

export function createAllocationWebhook(env: NodeJS.ProcessEnv = process.env): AllocationWebhook {
  const settings = readSettings(env);
  const allocator = compilePolicy(loadPolicy(settings));
  const options = { maxBodyBytes: settings.ALLOCATE_MAX_BODY_BYTES };
  return (body, now) => answerAllocationRequest(allocator, body, options, now);
}
