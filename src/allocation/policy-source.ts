// Where the policy comes from: the inline ALLOCATION_POLICY setting or a file. Read once, at start-up.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../settings';
import { parsePolicyText, PolicyError } from './policy';
import type { Policy } from './policy-schema';

/** The app root: the nearest folder above this file that holds host.json (works from src/ and dist/src/). */
export function appRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'host.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export function loadPolicy(settings: Pick<Settings, 'ALLOCATION_POLICY' | 'ALLOCATION_POLICY_PATH'>): Policy {
  if (settings.ALLOCATION_POLICY)
    return parsePolicyText(settings.ALLOCATION_POLICY, 'setting ALLOCATION_POLICY');
  const file = path.resolve(appRoot(), settings.ALLOCATION_POLICY_PATH);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyError(`file ${file}`, [
      {
        path: '$',
        message: `cannot read the policy file (ALLOCATION_POLICY_PATH): ${(error as Error).message}`,
      },
    ]);
  }
  return parsePolicyText(text, `file ${file}`);
}
