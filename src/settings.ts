// Every app setting the functions read, validated once. Names, defaults and descriptions here are the
// reference: the README's settings table and the Bicep app settings are checked against this schema.
import { z } from 'zod';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

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
});

export type Settings = z.infer<typeof settingsSchema>;

export class SettingsError extends Error {
  override name = 'SettingsError';
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
