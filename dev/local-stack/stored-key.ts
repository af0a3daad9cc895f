// A key the stack generates once and keeps in its data folder (owner-only), so that what was configured with it
// (webhook URLs holding `?code=`, EVENTS_TOPIC_KEY in local.settings.json) stays valid across restarts.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The key in `file`, or 32 new random bytes in `encoding` written there. */
export async function loadOrCreateKey(
  file: string,
  encoding: 'base64' | 'base64url' = 'base64url',
): Promise<string> {
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key !== '') return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32).toString(encoding);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}
