// `npm run audit -- ...` in-process: a scan of the seeded DPS emulator into Azurite with its progress line and
// summary, then list, history, scans and findings as tables and as JSON; settings from the environment and
// local.settings.json; one-line errors with exit codes 1 and 2.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/audit/main';
import { startAuditEnvironment, type AuditTestEnvironment } from '../../audit/support/environment';
import {
  expectedRows,
  EXPECTED_URL,
  FUNCTION_KEY,
  GROUPS,
  INDIVIDUAL_FAILED,
  recoverFailed,
  seedViewsFixture,
  type ExpectedRow,
} from '../../audit/support/views-fixture';
import { closedPort } from '../../support/closed-port';

let env: AuditTestEnvironment;
let folder: string;
let settings: NodeJS.ProcessEnv;
let expected: ExpectedRow[];
let recovered: string[];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function audit(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; tty?: boolean } = {},
): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.tty, columns: 200 },
    env: options.env ?? settings,
    cwd: options.cwd ?? folder,
    progressIntervalMs: 0,
  });
  return { code, stdout, stderr };
}

/** The data rows of a table: lines after the dashed rule, up to the first blank line. */
function tableRows(output: string): string[][] {
  const lines = output.split('\n');
  const rule = lines.findIndex((line) => /^-+( +-+)+$/.test(line));
  const end = lines.indexOf('', rule);
  return lines.slice(rule + 1, end < 0 ? undefined : end).map((line) => line.trim().split(/ {2,}/));
}

const ids = (rows: ReadonlyArray<{ registrationId: string }>) => rows.map((row) => row.registrationId).sort();
const where = (predicate: (row: ExpectedRow) => boolean) => ids(expected.filter(predicate));

beforeAll(async () => {
  env = await startAuditEnvironment();
  seedViewsFixture(env.emulator);
  folder = mkdtempSync(path.join(os.tmpdir(), 'audit-cli-'));
  const caFile = path.join(folder, 'dps-ca.pem');
  writeFileSync(caFile, env.emulator.caCertificatePem);
  // The table prefix comes from local.settings.json, as `npm start` would read it; the rest from the environment.
  writeFileSync(
    path.join(folder, 'local.settings.json'),
    JSON.stringify({
      IsEncrypted: false,
      Values: { AUDIT_TABLE_PREFIX: 'CliViews' },
    }),
  );
  settings = {
    AUDIT_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
    DPS_CONNECTION_STRING: env.emulator.serviceConnectionString,
    DPS_CA_CERTIFICATE_PATH: caFile,
    AUDIT_EXPECTED_WEBHOOK_URL: EXPECTED_URL,
    AUDIT_PAGE_SIZE: '5',
  };
});

afterAll(async () => {
  await env?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('scan', () => {
  let first: Result;

  beforeAll(async () => {
    first = await audit(['scan']);
  });

  it('runs a scan run with a progress line on stderr, then prints the run', () => {
    expect(first).toMatchObject({ code: 0 });
    const progress = first.stderr.split('\n').filter((line) => line !== '');
    const figures = '· [\\d,]+ registrations read · [\\d,]+ problems? · [\\d,]+ DPS operations · [\\d.]+ m?s';
    expect(progress[0]).toMatch(new RegExp(`^scan: 0 groups done, listing enrollment groups ${figures}$`));
    expect(progress).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^scan: 0 groups done, reading group ${GROUPS[0]} ${figures}$`)),
        expect.stringMatching(new RegExp(`^scan: 1 group done, reading group ${GROUPS[1]} ${figures}$`)),
        expect.stringMatching(new RegExp(`^scan: 2 groups done, reading individual enrollments ${figures}$`)),
      ]),
    );
    expect(progress.at(-1)).toMatch(/ · 29 registrations read · 23 problems · /);
    expect(first.stdout).toMatch(/^Scan run [0-9a-f-]{36} completed in /);
    // 2 groups x 14 registrations + the individual enrollment; 2 x 11 problems + 1.
    const [row] = tableRows(first.stdout);
    expect(row).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      expect.stringMatching(/s$/),
      'completed',
      '2',
      '29',
      '23',
      '23',
      '0',
      expect.stringMatching(/^\d+$/),
      expect.stringMatching(/^\d+$/),
      '0',
      '–',
    ]);
  });

  it('reads the table prefix from local.settings.json and lets the environment win', async () => {
    const scans = await audit(['scans', '--json']);
    expect(JSON.parse(scans.stdout).items).toHaveLength(1);
    const elsewhere = await audit(['scans', '--json'], {
      env: { ...settings, AUDIT_TABLE_PREFIX: 'Nothing' },
    });
    expect(JSON.parse(elsewhere.stdout).items).toEqual([]);
  });

  it('prints the run as JSON with --json, and redraws the progress line in place on a terminal', async () => {
    const before = recoverFailed(env.emulator, GROUPS[0], 2);
    recovered = [...before.keys()];
    const second = await audit(['scan', '--json'], { tty: true });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      outcome: 'completed',
      problemsResolved: 2,
      problemsFound: 0,
    });
    expect(second.stderr).toContain('\r\x1b[2Kscan: ');
    expect(second.stderr.endsWith('\r\x1b[2K')).toBe(true);
    expect(second.stderr).not.toContain('\n');
    expected = expectedRows(env.emulator, before);
  });
});

describe('list', () => {
  it('prints the problems as an aligned table with a summary and the meaning of each error code', async () => {
    const result = await audit(['list']);
    expect(result.code).toBe(0);
    const [header] = result.stdout.split('\n');
    expect(header).toMatch(/^REGISTRATION ID +ENROLLMENT +STATUS +ERROR +FIRST SEEN +LAST SEEN +RESOLVED$/);
    const rows = tableRows(result.stdout);
    expect(rows.map((row) => row[0]).sort()).toEqual(ids(expected));
    expect(rows.find((row) => row[0] === INDIVIDUAL_FAILED)).toEqual([
      INDIVIDUAL_FAILED,
      '(individual)',
      'failed',
      '400209',
      expect.any(String),
      expect.any(String),
      '–',
    ]);
    expect(rows.find((row) => row[0] === recovered[0])?.[6]).toMatch(/^assigned \d{4}-/);
    expect(result.stdout).toContain(`${expected.length} problems (${expected.length - 2} open, 2 resolved).`);
    expect(result.stdout).toMatch(/Error codes:\n {2}400207 {2}Custom allocation failed/);
    expect(result.stdout).toMatch(/ {2}400209 {2}Custom allocation webhook key rejected/);
  });

  it('filters like the HTTP API, and --json prints the rows', async () => {
    const failed = await audit(['list', '--status', 'failed', '--open']);
    expect(
      tableRows(failed.stdout)
        .map((row) => row[0])
        .sort(),
    ).toEqual(where((row) => row.status === 'failed' && row.open));
    const json = await audit([
      'list',
      '--group',
      'FLEET-HASHED',
      '--error-code',
      '400208',
      '--since',
      '1h',
      '--json',
    ]);
    expect(ids(JSON.parse(json.stdout))).toEqual(
      where((row) => row.group === GROUPS[1] && row.errorCode === 400208),
    );
    const resolved = await audit(['list', '--resolved', '--json']);
    expect(ids(JSON.parse(resolved.stdout))).toEqual([...recovered].sort());
    const individual = await audit(['list', '--kind', 'individual', '--json']);
    expect(ids(JSON.parse(individual.stdout))).toEqual([INDIVIDUAL_FAILED]);
  });

  it('stops at --limit and says that more match', async () => {
    const result = await audit(['list', '--limit', '3']);
    expect(tableRows(result.stdout)).toHaveLength(3);
    expect(result.stdout).toContain('more match: raise --limit or narrow the filters.');
    const all = await audit(['list', '--limit', String(expected.length), '--json']);
    expect(JSON.parse(all.stdout)).toHaveLength(expected.length);
    expect((await audit(['list', '--limit', String(expected.length)])).stdout).not.toContain('more match');
  });
});

describe('history, scans and findings', () => {
  it("prints a device's transitions", async () => {
    const result = await audit(['history', recovered[0]!.toLowerCase()]);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`History of ${recovered[0]}:`);
    expect(tableRows(result.stdout).map((row) => row.slice(1, 4))).toEqual([
      [GROUPS[0], 'none', 'failed'],
      [GROUPS[0], 'failed', 'assigned'],
    ]);
    const json = await audit(['history', INDIVIDUAL_FAILED, '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ fromStatus: 'none', toStatus: 'failed', errorCode: 400209 }),
    ]);
    expect(json.stdout).not.toContain(FUNCTION_KEY);
    expect((await audit(['history', 'never-seen'])).stdout).toMatch(/^No history for never-seen/);
    const elsewhere = await audit(['history', recovered[0]!, '--group', 'another-group']);
    expect(elsewhere.stdout).toMatch(
      new RegExp(`^No history for ${recovered[0]} in enrollment group another-group: .*leave out --group`),
    );
  });

  it('prints the scan runs, newest first, and where the scan stands', async () => {
    const result = await audit(['scans']);
    const rows = tableRows(result.stdout);
    expect(rows.map((row) => [row[2], row[7]])).toEqual([
      ['completed', '2'],
      ['completed', '0'],
    ]);
    expect(result.stdout).toMatch(
      /Scan [0-9a-f-]{36} \(started .*\): completed\. No run holds the scan lease\./,
    );
    expect(JSON.parse((await audit(['scans', '--limit', '1', '--json'])).stdout).items).toHaveLength(1);
  });

  it('prints the open problems counted by status, error code and enrollment', async () => {
    const open = expected.filter((row) => row.open);
    const count = (key: (row: ExpectedRow) => string) => {
      const counts = new Map<string, string>();
      for (const row of open) counts.set(key(row), String(open.filter((r) => key(r) === key(row)).length));
      return counts;
    };
    const result = await audit(['summary']);
    expect(result.code).toBe(0);
    const resolved = expected.length - open.length;
    expect(result.stdout.split('\n')[0]).toMatch(
      new RegExp(`^${open.length} open problems in \\d+ enrollments; ${resolved} resolved since `),
    );
    // Three tables: status, error code, enrollment.
    const [byStatus, byCode, byEnrollment] = result.stdout
      .split('\n\n')
      .slice(1)
      .map((table) => new Map(tableRows(table).map((row) => [row[0]!, row[1]!])));
    for (const [status, n] of count((row) => row.status)) expect(byStatus!.get(status)).toBe(n);
    for (const [code, n] of count((row) => (row.errorCode === undefined ? '–' : String(row.errorCode)))) {
      expect(byCode!.get(code)).toBe(n);
    }
    for (const [group, n] of count((row) => row.group ?? '(individual)'))
      expect(byEnrollment!.get(group)).toBe(n);
    expect(JSON.parse((await audit(['summary', '--json'])).stdout)).toMatchObject({
      open: open.length,
      resolvedRecently: resolved,
    });
  });

  it('prints the newest transitions of every device, newest first', async () => {
    const result = await audit(['transitions', '--since', '1h']);
    expect(result.code).toBe(0);
    const rows = tableRows(result.stdout);
    // Every problem's first sighting, and the recoveries.
    expect(rows).toHaveLength(expected.length + recovered.length);
    expect(
      rows
        .filter((row) => row[4] === 'assigned')
        .map((row) => row[1])
        .sort(),
    ).toEqual([...recovered].sort());
    const times = rows.map((row) => row[0]!);
    expect([...times].sort().reverse()).toEqual(times);
    const json = JSON.parse((await audit(['transitions', '--limit', '2', '--json'])).stdout);
    expect(json.items).toHaveLength(2);
    expect((await audit(['transitions', '--limit', '501'])).code).toBe(2);
  });

  it('prints the enrollment findings and what to fix', async () => {
    const result = await audit(['findings']);
    const rows = tableRows(result.stdout);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['group', GROUPS[0], 'custom', 'enabled', EXPECTED_URL, 'none'],
        ['group', GROUPS[1], 'hashed', 'enabled', '–', 'allocation-not-custom'],
      ]),
    );
    expect(result.stdout).toMatch(
      new RegExp(`To fix:\\n {2}${GROUPS[1]}: The allocation policy is 'hashed'`),
    );
    const json = JSON.parse((await audit(['findings', '--json'])).stdout) as Array<{ enrollmentId: string }>;
    expect(json.map((row) => row.enrollmentId)).toEqual(expect.arrayContaining([...GROUPS]));
  });
});

describe('errors', () => {
  it('answers bad arguments with one line and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['lsit'],
        /^audit: unknown command 'lsit'; use list, history, scans, findings, summary, transitions, scan/,
      ],
      [['list', '--status', 'broken'], /^audit list: --status must be one of failed, unassigned/],
      [['list', '--resolved', '--open'], /--resolved and --open exclude each other/],
      [['list', '--since', 'yesterday'], /--since must be a duration back from now/],
      [['list', '--limit', '0'], /--limit must be a whole number from 1 to/],
      [['list', '--colour'], /^audit list: Unknown option '--colour' \(see --help\)\n$/],
      [['history'], /^audit history: which registration id\?/],
      [['history', 'a', 'b'], /unexpected argument 'b'/],
    ];
    for (const [argv, message] of cases) {
      const result = await audit(argv);
      expect({ argv, code: result.code, stdout: result.stdout }).toEqual({ argv, code: 2, stdout: '' });
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('prints usage with --help, listing every command', async () => {
    const help = await audit(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['list', 'history <registrationId>', 'scans', 'findings', 'scan']) {
      expect(help.stdout).toContain(`  ${command} [`);
    }
    expect((await audit([])).code).toBe(2);
  });

  it('says which endpoint is unreachable and how to start Azurite, in one line with exit code 1', async () => {
    const port = await closedPort();
    const result = await audit(['list'], {
      env: {
        ...settings,
        AUDIT_STORAGE_CONNECTION_STRING: env.azurite.connectionString.replace(/:\d+\//, `:${port}/`),
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `audit list: cannot reach table storage at http://127.0.0.1:${port}/devstoreaccount1 (ECONNREFUSED). ` +
        'Is Azurite running? Start the local stack (`npm start`) or Azurite alone ' +
        '(`npx azurite-table --location .local/azurite --disableTelemetry`).\n',
    );
  });

  it('names the missing or invalid setting', async () => {
    const noDps = await audit(['scan'], { env: { ...settings, DPS_CONNECTION_STRING: '' } });
    expect(noDps).toMatchObject({ code: 1, stdout: '' });
    expect(noDps.stderr).toMatch(/^audit scan: The audit needs DPS access: set DPS_CONNECTION_STRING/);
    const badPrefix = await audit(['list'], { env: { ...settings, AUDIT_TABLE_PREFIX: 'no-dashes' } });
    expect(badPrefix.code).toBe(1);
    expect(badPrefix.stderr).toMatch(
      /^audit list: Invalid app settings: AUDIT_TABLE_PREFIX: must be a letter/,
    );
    expect(badPrefix.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('scan interrupted by Ctrl-C', () => {
  it('ends the run after the current page, resumable with the lease released; the next run finishes the scan', async () => {
    const stopEnv = { ...settings, AUDIT_TABLE_PREFIX: 'CliStop' };
    const interrupts = new EventEmitter();
    let stdout = '';
    let stderr = '';
    const code = await main(['scan', '--json'], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: {
        write: (text: string) => {
          stderr += text;
          // Ctrl-C while the first group's pages go by.
          if (text.includes(`reading group ${GROUPS[0]}`)) interrupts.emit('SIGINT');
          return true;
        },
        isTTY: false,
        columns: 200,
      },
      env: stopEnv,
      cwd: folder,
      progressIntervalMs: 0,
      interrupts,
    });
    expect(code).toBe(0);
    expect(stderr).toContain('stopping after the current page');
    expect(interrupts.listenerCount('SIGINT')).toBe(0);
    const stopped = JSON.parse(stdout);
    expect(stopped).toMatchObject({ outcome: 'resumable', detail: 'Stopped early: stop requested.' });
    expect(stopped.registrationsRead).toBeGreaterThan(0);
    expect(stopped.registrationsRead).toBeLessThan(29);

    // Not skipped: the lease was given back. Every registration is read once over the two runs.
    const next = await audit(['scan', '--json'], { env: stopEnv });
    const resumed = JSON.parse(next.stdout);
    expect(resumed).toMatchObject({ outcome: 'completed', scanId: stopped.scanId });
    expect(stopped.registrationsRead + resumed.registrationsRead).toBe(29);
    // A fresh table: the devices that recovered before this scan were never problems here.
    const rows = JSON.parse((await audit(['list', '--limit', '1000', '--json'], { env: stopEnv })).stdout);
    expect(ids(rows)).toEqual(where((row) => row.open));
  });
});
