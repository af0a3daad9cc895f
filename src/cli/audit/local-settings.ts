// The app settings the audit CLI runs with: the environment, plus the `Values` of local.settings.json for what the
// environment does not set (as the Functions host applies them), so `npm run audit` sees what `npm start` sees.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export class LocalSettingsError extends Error {
  override name = 'LocalSettingsError';
}

const localSettingsSchema = z.looseObject({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.string()).optional(),
});

/** `Values` of `<folder>/local.settings.json`; empty when the file does not exist. */
export function readLocalSettingValues(folder: string): Record<string, string> {
  const file = path.join(folder, 'local.settings.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new LocalSettingsError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new LocalSettingsError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = localSettingsSchema.safeParse(json);
  if (!parsed.success) {
    throw new LocalSettingsError(`${file}: Values must be an object of strings`);
  }
  if (parsed.data.IsEncrypted)
    throw new LocalSettingsError(`${file} is encrypted; only plain settings are read`);
  return parsed.data.Values ?? {};
}

/** The environment, with local.settings.json Values filling in what it does not set. */
export function settingsEnvironment(env: NodeJS.ProcessEnv, folder: string): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...readLocalSettingValues(folder) };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}
