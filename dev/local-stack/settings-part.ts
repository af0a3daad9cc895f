// App settings of the local run, set in process.env before the Functions host loads the function files (they read
// their settings at import). Precedence, highest first: the environment `npm start` was given, values you wrote in
// local.settings.json, the stack's local defaults. Values the stack itself wrote into local.settings.json on an
// earlier start (recorded by hash) count as its own and are updated: other ports or another data folder, or new
// emulator keys after --reset. A value that differs from what it wrote is yours (you set or edited it) and is kept.
// On stop, process.env is put back as it was.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readLocalSettings } from '../functions-host';
import { displayPath } from './paths';
import type { LocalStackPart } from './types';

export interface LocalDefault {
  name: string;
  value: string;
  /** Also written to local.settings.json, so that CLIs run beside `npm start` (`npm run audit`) find it. */
  writeToFile?: boolean;
  /** The value may be shown in the banner (never for connection strings). */
  showValue?: boolean;
}

export type SettingSource = 'environment' | 'local.settings.json' | 'local default';

export interface SettingsPart extends LocalStackPart {
  settingsFile: string;
  /** local.settings.json `Host.LocalHttpPort`. */
  localHttpPort: number | undefined;
  /** Applies a default known only later (the functions' URL) with the same precedence. */
  applyDefault(setting: LocalDefault): SettingSource;
  sourceOf(name: string): SettingSource | undefined;
  /** Names this start wrote (or rewrote) in local.settings.json. */
  readonly written: readonly string[];
  /** Those of `written` that replaced a value an earlier start had written. */
  readonly updated: readonly string[];
}

/** What the stack's values are made from, by label (`storage port` -> `10002`), to say why they changed. */
export type ValueBasis = Record<string, string>;

interface SettingsRecord {
  file: string;
  /** Setting name -> sha256 of the value the stack wrote: never the value, which may hold a key. */
  values: Record<string, string>;
  basis?: ValueBasis;
}

interface ReadRecord {
  values: Record<string, string>;
  basis: ValueBasis;
}

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';
const hashOf = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

const stringsOf = (value: unknown): Record<string, string> =>
  typeof value === 'object' && value !== null
    ? Object.fromEntries(
        Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      )
    : {};

async function readRecord(recordFile: string, settingsFile: string): Promise<ReadRecord> {
  try {
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as Partial<SettingsRecord>;
    if (record.file !== settingsFile) return { values: {}, basis: {} };
    return { values: stringsOf(record.values), basis: stringsOf(record.basis) };
  } catch {
    return { values: {}, basis: {} }; // no record (first start) or an unreadable one: every value is yours
  }
}

/** Why the stack's values changed since the record: `storage port 10002 → 41611, data folder .local → x`. */
function changesSince(before: ValueBasis, now: ValueBasis): string {
  const changes = Object.entries(now)
    .filter(([label, value]) => before[label] !== undefined && before[label] !== value)
    .map(([label, value]) => `${label} ${before[label]} → ${value}`);
  return changes.join(', ') || 'new local values';
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}

/** The file's JSON as it is (keys the stack does not know are kept), or a new one as `func start` expects it. */
async function readSettingsJson(file: string): Promise<{ json: Record<string, unknown>; existed: boolean }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return { json: { IsEncrypted: false, Values: { FUNCTIONS_WORKER_RUNTIME: 'node' } }, existed: false };
  }
  const json = JSON.parse(text.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  if (typeof json.Values !== 'object' || json.Values === null) json.Values = {};
  return { json, existed: true };
}

export async function startSettingsPart(options: {
  appRoot: string;
  recordFile: string;
  defaults: readonly LocalDefault[];
  /** What the defaults are made from (ports, data folder): recorded, so that the banner says what changed. */
  basis?: ValueBasis;
  /** Default process.env: function code reads process.env. */
  env?: NodeJS.ProcessEnv;
}): Promise<SettingsPart> {
  const env = options.env ?? process.env;
  const settingsFile = path.join(options.appRoot, 'local.settings.json');
  const local = readLocalSettings(settingsFile); // clear errors for malformed or encrypted files
  const record = await readRecord(options.recordFile, settingsFile);
  const isOurs = (name: string, value: string) => record.values[name] === hashOf(value);
  const basis = options.basis ?? {};

  const saved = new Map<string, string | undefined>();
  const set = (name: string, value: string) => {
    if (!saved.has(name)) saved.set(name, env[name]);
    env[name] = value;
  };
  const givenByEnvironment = (name: string) => isSet(saved.has(name) ? saved.get(name) : env[name]);
  const restore = () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    saved.clear();
  };

  // local.settings.json Values, as the Functions host applies them: only where the environment has none.
  for (const [name, value] of Object.entries(local.values)) {
    if (!isSet(env[name]) && isSet(value)) set(name, value);
  }

  const sources = new Map<string, SettingSource>();
  const defaulted: LocalDefault[] = [];
  const applyDefault = (setting: LocalDefault): SettingSource => {
    const fileValue = local.values[setting.name];
    let source: SettingSource;
    if (givenByEnvironment(setting.name)) source = 'environment';
    else if (isSet(fileValue) && !isOurs(setting.name, fileValue)) source = 'local.settings.json';
    else {
      set(setting.name, setting.value);
      source = 'local default';
      defaulted.push(setting);
    }
    sources.set(setting.name, source);
    return source;
  };
  for (const setting of options.defaults) applyDefault(setting);

  let written: string[];
  try {
    written = await writeOwnValues(
      settingsFile,
      options.recordFile,
      local.values,
      record.values,
      defaulted,
      basis,
    );
  } catch (error) {
    restore();
    throw new Error(`Could not update ${settingsFile}: ${(error as Error).message}`, { cause: error });
  }

  // Replaced values were set in the file: being defaulted, they were the stack's own.
  const updated = written.filter((name) => isSet(local.values[name]));
  const fresh = written.filter((name) => !updated.includes(name));
  // Yours in the file but not what this start would write: stale if the stack's record was lost (.local removed).
  const differing = options.defaults
    .filter((setting) => setting.writeToFile && sources.get(setting.name) === 'local.settings.json')
    .filter((setting) => local.values[setting.name] !== setting.value)
    .map((setting) => setting.name);
  const shownFile = displayPath(options.appRoot, settingsFile);
  return {
    name: 'Settings',
    settingsFile,
    localHttpPort: local.localHttpPort,
    applyDefault,
    sourceOf: (name) => sources.get(name),
    written,
    updated,
    get banner() {
      const describe = (setting: LocalDefault) =>
        setting.showValue ? `${setting.name}=${JSON.stringify(setting.value)}` : setting.name;
      const kept = [...sources]
        .filter(([, source]) => source !== 'local default')
        .map(([name, source]) => `${name} (${source})`);
      const lines = [
        `Settings: local defaults ${defaulted.map(describe).join(', ') || '(none)'}; ` +
          'values set in the environment or local.settings.json win',
      ];
      if (kept.length > 0) lines.push(`  kept yours: ${kept.join(', ')}`);
      if (differing.length > 0) {
        lines.push(
          `  yours differ from this stack's (delete them in ${shownFile} to use its own): ${differing.join(', ')}`,
        );
      }
      if (updated.length > 0) {
        lines.push(
          `  updated: ${updated.join(', ')} in ${shownFile}, values it wrote there earlier ` +
            `(${changesSince(record.basis, basis)})`,
        );
      }
      if (fresh.length > 0) {
        lines.push(
          `  wrote ${fresh.join(', ')} to ${shownFile} (git-ignored), so that \`npm run audit\` finds them`,
        );
      }
      return lines;
    },
    stop: async () => restore(),
  };
}

/** Writes the stack's file settings into local.settings.json (never over yours) and records what it wrote. */
async function writeOwnValues(
  settingsFile: string,
  recordFile: string,
  fileValues: Readonly<Record<string, string>>,
  record: Readonly<Record<string, string>>,
  defaulted: readonly LocalDefault[],
  basis: ValueBasis,
): Promise<string[]> {
  const toWrite = defaulted.filter((setting) => setting.writeToFile);
  const changed = toWrite.filter((setting) => fileValues[setting.name] !== setting.value);
  const nextRecord: Record<string, string> = {};
  for (const [name, hash] of Object.entries(record)) {
    const value = fileValues[name];
    if (value !== undefined && hashOf(value) === hash) nextRecord[name] = hash; // still ours
  }
  for (const setting of toWrite) nextRecord[setting.name] = hashOf(setting.value);

  if (changed.length > 0) {
    const { json } = await readSettingsJson(settingsFile);
    const values = json.Values as Record<string, unknown>;
    for (const setting of changed) values[setting.name] = setting.value;
    await writeAtomically(settingsFile, `${JSON.stringify(json, null, 2)}\n`);
  }
  const nextText = { file: settingsFile, values: nextRecord, basis } satisfies SettingsRecord;
  const recordText = `${JSON.stringify(nextText, null, 2)}\n`;
  await writeAtomically(recordFile, recordText);
  return changed.map((setting) => setting.name);
}
