// Shared by the policy-tools and CLI tests: policies written to a temporary folder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const EQUAL_HUBS = ['hub-1', 'hub-2', 'hub-3', 'hub-4'].map((name) => `${name}.azure-devices.net`);
export const NEW_HUB = 'hub-5.azure-devices.net';

/** A temporary folder for input files; call remove() in afterAll. */
export function tempFolder() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'policy-tools-'));
  return {
    dir,
    write(name: string, content: unknown): string {
      const file = path.join(dir, name);
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
