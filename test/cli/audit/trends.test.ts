// `npm run audit -- trends` in-process on a roll-up refreshed from history and decisions in Azurite: one line per
// day (opened, resolved, allocations, refused, busiest hubs) with totals, --days, --json (the API's view), and a
// bad --days refused with exit code 2.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type Azurite } from '../../../dev/azurite';
import { main } from '../../../src/cli/audit/main';
import { windowDays } from '../../../src/trends/days';
import { refreshTrendSources } from '../../../src/trends/refresh';
import { trendsViewSchema } from '../../../src/trends/view';
import {
  expectedAllocationDay,
  expectedProblemDay,
  monthOfDecisions,
  monthOfHistory,
  newPrefix,
  sourcesOn,
  writeDecisions,
  writeHistory,
} from '../../trends/support/month';
import type { TrendsSources } from '../../../src/trends/store';

let azurite: Azurite;
let folder: string;
let settings: NodeJS.ProcessEnv;
let sources: TrendsSources;
const started = Date.now();

async function audit(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: settings,
    cwd: folder,
  });
  return { code, stdout, stderr };
}

/** The data rows of the table: lines after the dashed rule, up to the first blank line. */
function tableRows(output: string): string[][] {
  const lines = output.split('\n');
  const rule = lines.findIndex((line) => /^-+( +-+)+$/.test(line));
  const end = lines.indexOf('', rule);
  return lines.slice(rule + 1, end < 0 ? undefined : end).map((line) => line.trim().split(/ {2,}/));
}

beforeAll(async () => {
  azurite = await startAzurite();
  folder = mkdtempSync(path.join(os.tmpdir(), 'trends-cli-'));
  const prefix = newPrefix();
  settings = { AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString, AUDIT_TABLE_PREFIX: prefix };
  sources = sourcesOn(azurite, prefix);
  await writeHistory(sources.audit, monthOfHistory(started, 10));
  await writeDecisions(sources.decisions, monthOfDecisions(started, 10));
  await refreshTrendSources(sources, { log: () => undefined });
});

afterAll(async () => {
  await azurite?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

it('prints a line per day, oldest first, with what the source tables hold', async () => {
  const result = await audit(['trends', '--days', '5']);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout.split('\n')[0]).toMatch(/^DAY +OPENED +RESOLVED +ALLOCATIONS +REJECTED +TOP HUBS$/);
  const rows = tableRows(result.stdout);
  const days = rows.map((row) => row[0]);
  // The CLI reads the clock itself: the window ends today (or tomorrow, had the test crossed midnight).
  expect([windowDays(5, started), windowDays(5, Date.now())]).toContainEqual(days);
  for (const [day, opened, resolved, allocations, refused, hubs] of rows) {
    const problems = await expectedProblemDay(sources.audit, day!);
    const decisions = await expectedAllocationDay(sources.decisions, day!);
    expect([opened, resolved, allocations, refused].map(Number)).toEqual([
      problems.opened.total,
      problems.resolved.total,
      decisions.total,
      decisions.byOutcome.rejected! + decisions.byOutcome['invalid-request']!,
    ]);
    const busiest = Object.entries(decisions.byHub).sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0];
    expect(hubs).toContain(busiest ? `${busiest[0]} ${busiest[1]}` : '–');
  }
  expect(result.stdout).toMatch(/problems opened, .* resolved, .* allocation requests over 3 hubs\./);
  expect(result.stdout).toMatch(/Last changed: problems \d{4}-\d\d-\d\dT/);
});

it('prints the API view with --json', async () => {
  const result = await audit(['trends', '--json']);
  expect(result.code).toBe(0);
  const view = trendsViewSchema.parse(JSON.parse(result.stdout));
  expect(view.days).toBe(30);
  expect(view.problems).toHaveLength(30);
  const today = view.problems.at(-1)!;
  expect(today).toEqual(await expectedProblemDay(sources.audit, today.day));
});

it('refuses a bad --days with exit code 2 and says what is accepted', async () => {
  const result = await audit(['trends', '--days', '0']);
  expect(result).toMatchObject({ code: 2, stdout: '' });
  expect(result.stderr).toMatch(/--days must be a whole number from 1 to 90/);
});
