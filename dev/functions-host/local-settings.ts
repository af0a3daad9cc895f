import fs from 'node:fs';
import { z } from 'zod';

// local.settings.json as `func start` reads it: `Values` become environment variables unless already set,
// `Host.LocalHttpPort` is the default port. A missing file is fine; a malformed one is an error.

const localSettingsSchema = z.looseObject({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.string({ error: 'must be a string' })).optional(),
  Host: z
    .looseObject({
      LocalHttpPort: z.number().int().min(0).max(65535).optional(),
    })
    .optional(),
});

export interface LocalSettings {
  /** Absent when the file does not exist. */
  file: string | undefined;
  values: Record<string, string>;
  localHttpPort: number | undefined;
}

export interface AppliedLocalSettings extends LocalSettings {
  /** Names set from the file. */
  applied: string[];
  /** Names left alone because the environment already had them. */
  skipped: string[];
}

export function readLocalSettings(file: string): LocalSettings {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { file: undefined, values: {}, localHttpPort: undefined };
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = localSettingsSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is malformed:\n${z.prettifyError(parsed.error)}`);
  if (parsed.data.IsEncrypted) {
    throw new Error(`${file} is encrypted ("IsEncrypted": true); this host only reads plain settings.`);
  }
  return { file, values: parsed.data.Values ?? {}, localHttpPort: parsed.data.Host?.LocalHttpPort };
}

/** Reads `file` and copies its Values into `env` without overriding variables that are already set. */
export function applyLocalSettings(file: string, env: NodeJS.ProcessEnv = process.env): AppliedLocalSettings {
  const settings = readLocalSettings(file);
  const applied: string[] = [];
  const skipped: string[] = [];
  for (const [name, value] of Object.entries(settings.values)) {
    if (env[name] !== undefined) {
      skipped.push(name);
    } else {
      env[name] = value;
      applied.push(name);
    }
  }
  return { ...settings, applied, skipped };
}
