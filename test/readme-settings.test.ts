// The README's settings table is the operator's reference: it must list every setting of the schema in
// src/settings.ts, with the schema's default and required-ness (required = no default and not optional).
// The sample local.settings.json holds only known settings, valid, without secrets.
import fs from 'node:fs';
import path from 'node:path';
import { readSettings, settingsSchema } from '../src/settings';

interface SettingsRow {
  default: string | undefined;
  required: boolean;
  meaning: string;
}

const NO_VALUE = new Set(['–', '-', '']);
const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');

/** The table under `## Settings`, keyed by setting name. */
function readmeSettings(): Map<string, SettingsRow> {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const section = /^## Settings\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (section === undefined) throw new Error('README.md has no "## Settings" section');
  const rows = section
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim()),
    );
  const [header, separator, ...body] = rows;
  expect(header).toEqual(['Setting', 'Default', 'Required', 'Meaning']);
  expect(separator?.every((cell) => /^:?-+:?$/.test(cell))).toBe(true);
  const table = new Map<string, SettingsRow>();
  for (const [name, fallback, required, meaning] of body) {
    expect(['yes', 'no']).toContain(required);
    table.set(unquote(name!), {
      default: NO_VALUE.has(fallback!) ? undefined : unquote(fallback!),
      required: required === 'yes',
      meaning: meaning ?? '',
    });
  }
  expect(table.size).toBe(body.length); // no setting listed twice
  return table;
}

/** What the schema says of each setting: its default (as the text a user would write) and required-ness. */
function schemaSettings(): Map<string, { default: string | undefined; required: boolean }> {
  const settings = new Map<string, { default: string | undefined; required: boolean }>();
  for (const [name, schema] of Object.entries(settingsSchema.shape)) {
    const absent = (schema as { safeParse(value: unknown): { success: boolean; data?: unknown } }).safeParse(
      undefined,
    );
    settings.set(name, {
      default: absent.success && absent.data !== undefined ? String(absent.data) : undefined,
      required: !absent.success,
    });
  }
  return settings;
}

it('the README lists every setting of the schema, and only those', () => {
  expect([...readmeSettings().keys()].sort()).toEqual(Object.keys(settingsSchema.shape).sort());
});

it("the README gives each setting the schema's default and required-ness, and says what it means", () => {
  const readme = readmeSettings();
  for (const [name, expected] of schemaSettings()) {
    const row = readme.get(name);
    expect({ name, default: row?.default, required: row?.required }).toEqual({ name, ...expected });
    expect(row?.meaning.length).toBeGreaterThan(10);
  }
});

it('local.settings.sample.json names only known settings, with valid values and no secrets', () => {
  const sample = JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', 'local.settings.sample.json'), 'utf8'),
  ) as { Values: Record<string, string> };
  const hostSettings = ['FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsStorage', 'LOCAL_FUNCTION_KEY'];
  for (const name of Object.keys(sample.Values)) {
    expect([...Object.keys(settingsSchema.shape), ...hostSettings]).toContain(name);
  }
  expect(() => readSettings(sample.Values)).not.toThrow();
  // Keys and connection strings with keys are left empty: `npm start` (or you) fills them in.
  expect(JSON.stringify(sample)).not.toMatch(/SharedAccessKey=|AccountKey=/);
  expect(sample.Values.LOCAL_FUNCTION_KEY).toBe('');
});
