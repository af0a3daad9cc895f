// Builds the webhook from app settings, once per worker: an invalid setting or policy fails start-up.
import { readSettings } from '../settings';
import { compilePolicy } from './engine';
import { loadPolicy } from './policy-source';
import { answerAllocationRequest, type WebhookAnswer } from './webhook';

export type AllocationWebhook = (body: string) => WebhookAnswer;

export function createAllocationWebhook(env: NodeJS.ProcessEnv = process.env): AllocationWebhook {
  const settings = readSettings(env);
  const allocator = compilePolicy(loadPolicy(settings));
  const options = { maxBodyBytes: settings.ALLOCATE_MAX_BODY_BYTES };
  return (body) => answerAllocationRequest(allocator, body, options);
}
