// `npm run audit -- decisions` in-process, on decisions the real allocate handler recorded into Azurite: a table
// oldest first with a per-hub summary, filters, --limit, --json, and one-line errors.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type Azurite } from '../../../dev/azurite';
import { main } from '../../../src/cli/audit/main';
import { createAllocateHandler } from '../../../src/decisions/allocate-handler';
import type { DecisionView } from '../../../src/decisions/views';
import {
  groupRequest,
  HEATPUMPS_HUB,
  recordNotices,
  TOASTERS_HUB,
} from '../../decisions/support/decision-log';

let azurite: Azurite;
let folder: string;
let settings: NodeJS.ProcessEnv;

async function audit(argv: string[], env: NodeJS.ProcessEnv = settings) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
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

const DEVICES = [
  groupRequest('cli-kitchen-contoso-tstrsd-001'),
  groupRequest('cli-kitchen-contoso-hpsd-002'),
  groupRequest('cli-hall-contoso-tstrsd-003', { currentHub: TOASTERS_HUB }),
  groupRequest('cli-attic-contoso-hpsd-004', { linkedHubs: [TOASTERS_HUB] }),
];

beforeAll(async () => {
  azurite = await startAzurite();
  folder = mkdtempSync(path.join(os.tmpdir(), 'decisions-cli-'));
  settings = {
    AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString,
    AUDIT_TABLE_PREFIX: 'CliDecisions',
  };
  const handler = createAllocateHandler({
    env: { ...settings, DECISION_LOG_MAX_WAIT_MS: '5000' }, // every row written before the CLI reads
    notices: recordNotices(),
  });
  const log = { log: () => undefined, warn: () => undefined };
  for (const body of DEVICES) {
    expect((await handler.answerWithOutcome(body, log)).recorded).toBe('written');
  }
  await handler.close();
});

afterAll(async () => {
  await azurite?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

it('prints the last hour of decisions oldest first, with a per-hub summary and why devices were refused', async () => {
  const result = await audit(['decisions', '--since', '1h']);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout.split('\n')[0]).toMatch(
    /^TIME +REGISTRATION ID +GROUP +OUTCOME +RULE +STRATEGY +HUB +ASSIGNMENT +LATENCY$/,
  );
  const rows = tableRows(result.stdout);
  expect(rows.map((row) => row.slice(1, 8))).toEqual([
    [
      'cli-kitchen-contoso-tstrsd-001',
      'contoso-custom-allocated-devices',
      'assigned',
      'toasters',
      'hashed',
      TOASTERS_HUB,
      'initial',
    ],
    [
      'cli-kitchen-contoso-hpsd-002',
      'contoso-custom-allocated-devices',
      'assigned',
      'heatpumps',
      'hashed',
      HEATPUMPS_HUB,
      'initial',
    ],
    [
      'cli-hall-contoso-tstrsd-003',
      'contoso-custom-allocated-devices',
      'assigned',
      'toasters',
      'hashed',
      TOASTERS_HUB,
      'reprovision',
    ],
    [
      'cli-attic-contoso-hpsd-004',
      'contoso-custom-allocated-devices',
      'rejected',
      'heatpumps',
      'hashed',
      '–',
      'initial',
    ],
  ]);
  for (const row of rows) {
    expect(row[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(row[8]).toMatch(/^\d+(\.\d\d)? ms$/);
  }
  expect(result.stdout).toContain(
    `4 decisions: 3 assigned (${TOASTERS_HUB} 2, ${HEATPUMPS_HUB} 1), 1 rejected.`,
  );
  expect(result.stdout).toMatch(
    /Why not assigned:\n {2}\S+ \S+ cli-attic-contoso-hpsd-004: .*none of \[\*-heatpumps-\*\] is linked/,
  );
});

it('filters by hub and outcome, stops at --limit, and prints JSON with --json', async () => {
  const toasters = tableRows((await audit(['decisions', '--hub', TOASTERS_HUB])).stdout);
  expect(toasters.map((row) => row[1])).toEqual([
    'cli-kitchen-contoso-tstrsd-001',
    'cli-hall-contoso-tstrsd-003',
  ]);
  const rejected = await audit(['decisions', '--outcome', 'rejected', '--json']);
  const json = JSON.parse(rejected.stdout) as DecisionView[];
  expect(json).toEqual([
    expect.objectContaining({ registrationId: 'cli-attic-contoso-hpsd-004', outcome: 'rejected', hub: null }),
  ]);
  const limited = await audit(['decisions', '--limit', '2']);
  expect(tableRows(limited.stdout)).toHaveLength(2);
  expect(limited.stdout).toContain('More match: raise --limit or narrow --since.');
  // The per-hub count covers the whole window, not only the rows shown.
  expect(limited.stdout).toContain(
    `In the whole window: 4 decisions: 3 assigned (${TOASTERS_HUB} 2, ${HEATPUMPS_HUB} 1), 1 rejected.`,
  );
  const future = await audit(['decisions', '--since', new Date(Date.now() + 60_000).toISOString()]);
  expect(future.stdout.trim()).toBe('No decisions recorded in that time.');
});

it('answers bad arguments with one line and exit code 2, and says when storage is unreachable', async () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['decisions', '--outcome', 'maybe'],
      /^audit decisions: --outcome must be one of assigned, rejected, invalid-request/,
    ],
    [['decisions', '--since', 'yesterday'], /--since must be a duration back from now/],
    [['decisions', '--since', '1h', '--until', '2h'], /--until must be later than --since/],
    [['decisions', '--limit', '0'], /--limit must be a whole number/],
    [['decisions', '--hub', ''], /--hub must not be empty/],
  ];
  for (const [argv, message] of cases) {
    const result = await audit(argv);
    expect({ argv, code: result.code, stdout: result.stdout }).toEqual({ argv, code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }
  const help = await audit(['--help']);
  expect(help.stdout).toContain('  decisions [--since 1h|ISO]');

  const down = await audit(['decisions'], {
    ...settings,
    AUDIT_STORAGE_CONNECTION_STRING: azurite.connectionString.replace(/:\d+\//, ':1/'),
  });
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(
    /^audit decisions: cannot reach table storage at http:\/\/127\.0\.0\.1:1\/devstoreaccount1 \(ECONNREFUSED\)\. Is Azurite running\?/,
  );
});
