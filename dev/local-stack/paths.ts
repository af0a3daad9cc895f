// Where the local stack keeps its data (default .local/, git-ignored), and what `--reset` removes. Only these
// folders and files belong to the stack: .local/ may hold other people's scratch files.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_DATA_DIR } from './types';

export interface LocalStackPaths {
  dataDir: string;
  /** Azurite's table database. */
  azuriteDir: string;
  /** The emulator's certificate (kept across resets, so a trusted file stays trusted), state and connection file. */
  emulatorDir: string;
  /** Groups, devices, policy keys and id scope: the same file `npm run dps-emulator -- --data-file` can use. */
  emulatorStateFile: string;
  /** The emulator's endpoints and connection strings (secrets), rewritten at every start. */
  emulatorConnectionFile: string;
  stackDir: string;
  /** The generated local function key (when LOCAL_FUNCTION_KEY is not set). */
  functionKeyFile: string;
  /** The local Event Grid topic's access key (EVENTS_TOPIC_KEY). */
  eventsKeyFile: string;
}

export function localStackPaths(dataDir: string): LocalStackPaths {
  const emulatorDir = path.join(dataDir, 'dps-emulator');
  const stackDir = path.join(dataDir, 'local-stack');
  return {
    dataDir,
    azuriteDir: path.join(dataDir, 'azurite'),
    emulatorDir,
    emulatorStateFile: path.join(emulatorDir, 'state.json'),
    emulatorConnectionFile: path.join(emulatorDir, 'connection.json'),
    stackDir,
    functionKeyFile: path.join(stackDir, 'function-key'),
    eventsKeyFile: path.join(stackDir, 'event-grid-key'),
  };
}

/**
 * Which local.settings.json values the stack wrote (as hashes), so that it updates its own and keeps yours. It
 * belongs to that file, at the app root, not to --data-dir: a start with another data folder (whose emulator has
 * other keys) must still know the values an earlier start wrote.
 */
export function settingsRecordFile(appRoot: string): string {
  return path.join(appRoot, DEFAULT_DATA_DIR, 'local-stack', 'settings-written.json');
}

/** What a start would reuse: table data, the emulator's state (groups, devices, keys) and the function key. */
export function resetTargets(paths: LocalStackPaths): string[] {
  return [paths.azuriteDir, paths.emulatorStateFile, paths.functionKeyFile];
}

export async function resetLocalData(paths: LocalStackPaths): Promise<string[]> {
  const targets = resetTargets(paths);
  for (const target of targets) await rm(target, { recursive: true, force: true });
  return targets;
}

/** A path for display: relative to the app root when inside it. */
export function displayPath(appRoot: string, target: string): string {
  const relative = path.relative(appRoot, target);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : target;
}
