import { main } from '../../../src/cli/policy/main';
import { EXIT } from '../../../src/cli/shared/exit-codes';
import type { SimulationResult } from '../../../src/cli/policy/simulate';
import { dpsRequestBody, officialSample } from '../../../dev/fixtures/dps-requests';
import { EQUAL_HUBS, NEW_HUB, tempFolder } from './support/policy-files';

const folder = tempFolder();
afterAll(() => folder.remove());

/** Runs the CLI in-process, from the repository root, and captures what it prints. */
function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}

const DEFAULT_POLICY = 'policies/default.policy.json';
const hashedPolicy = folder.write('hashed.json', { rules: [{ name: 'all' }] });
const request = folder.write('official-sample.json', officialSample);

describe('policy check', () => {
  it('prints the JSON path of each seeded error and exits 1', () => {
    const file = folder.write('seeded.json', {
      hubs: { eu: { hostName: 'eu.azure-devices.net' } },
      rules: [
        { name: 'a', hubs: ['us'], match: { payload: { 'model.id': { regex: '[' } } } },
        { name: 'a', payload: { hub: '{{hubName}}' } },
      ],
    });
    const { code, stdout } = cli('check', file);
    expect(code).toBe(EXIT.failed);
    const paths = stdout.split('\n').flatMap((line) => /^(\$\S*): /.exec(line)?.[1] ?? []);
    expect(paths.sort()).toEqual(
      [
        '$.rules[0].hubs[0]',
        '$.rules[0].match.payload["model.id"].regex',
        '$.rules[1].name',
        '$.rules[1].payload.hub',
      ].sort(),
    );
    expect(stdout).toContain('  hint: ');
  });

  it('prints OK and exits 0 for a valid policy', () => {
    expect(cli('check', DEFAULT_POLICY)).toEqual({
      code: EXIT.ok,
      stdout: 'OK: 7 rules, 0 hubs\n',
      stderr: '',
    });
  });

  it('--json prints the structured result', () => {
    const { code, stdout } = cli('check', DEFAULT_POLICY, '--json');
    expect(code).toBe(EXIT.ok);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, rules: 7, hubs: 0, notes: [] });
  });
});

describe('policy explain', () => {
  it('names the rule for the official DPS sample, with nothing before it', () => {
    const { code, stdout } = cli('explain', DEFAULT_POLICY, '--request', request);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain('Webhook answer: HTTP 200');
    expect(stdout).toContain('"iotHubHostName": "custom-allocation-toasters-hub.azure-devices.net"');
    expect(stdout).toMatch(/^Rule {9}toasters \(\$\.rules\[0\]\)$/m);
    expect(stdout).toMatch(/Earlier rules that did not decide:\n {2}\(none\)\n/);
  });

  it('--json gives the rule and the skipped rules', () => {
    const policy = folder.write('later.json', {
      rules: [
        { name: 'heatpumps', match: { registrationId: '*-hpsd-*' } },
        { name: 'toasters', match: { registrationId: '*-tstrsd-*' } },
      ],
    });
    const { stdout } = cli('explain', policy, '--request', request, '--json');
    expect(JSON.parse(stdout)).toMatchObject({
      rule: { name: 'toasters' },
      skippedRules: [{ rule: 'heatpumps', why: expect.stringContaining("does not match '*-hpsd-*'") }],
    });
  });

  it('shows the 400 the webhook would give an invalid request file, in one line, without secrets', () => {
    const file = folder.write('bad-request.json', {
      ...officialSample,
      enrollmentGroup: {
        ...officialSample.enrollmentGroup,
        customAllocationDefinition: { webhookUrl: 'https://fn.example/api/allocate?code=SECRET' },
      },
      linkedHubs: 'custom-allocation-toasters-hub.azure-devices.net',
    });
    const { code, stdout, stderr } = cli('explain', DEFAULT_POLICY, '--request', file);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `policy explain: ${file}: the webhook would answer 400: request body is not a DPS allocation request: ` +
        'linkedHubs: Invalid input: expected array, received string\n',
    );
    expect(stderr).not.toContain('SECRET');
  });

  it('keeps function keys out of JSON syntax errors', () => {
    const file = folder.write('broken.json', '{"webhookUrl": "https://fn.example/api/x?code=SECRET" "');
    const { code, stderr } = cli('explain', DEFAULT_POLICY, '--request', file);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('the webhook would answer 400: request body is not valid JSON');
    expect(stderr).not.toContain('SECRET');
  });
});

describe('policy simulate', () => {
  const linked = ['--linked-hubs', EQUAL_HUBS.join(',')];
  const simulateJson = (...args: string[]) => {
    const { code, stdout, stderr } = cli(
      'simulate',
      hashedPolicy,
      ...linked,
      '--devices',
      '5000',
      '--json',
      ...args,
    );
    expect({ code, stderr }).toEqual({ code: EXIT.ok, stderr: '' });
    return JSON.parse(stdout) as SimulationResult;
  };

  it('--add-hub on 4 equal hubs moves about 20%, all to the new hub', () => {
    const { comparison, after } = simulateJson('--add-hub', NEW_HUB);
    expect(Math.abs(comparison!.movedShare - 0.2)).toBeLessThan(0.02);
    expect(new Set(comparison!.moves.map((move) => move.to))).toEqual(new Set([NEW_HUB]));
    expect(after!.linkedHubs).toEqual([...EQUAL_HUBS, NEW_HUB]);
  });

  it('--remove-hub moves only the devices of the removed hub', () => {
    const removed = EQUAL_HUBS[1]!;
    const { comparison, before } = simulateJson('--remove-hub', removed.toUpperCase());
    expect(comparison!.moves.every((move) => move.from === removed)).toBe(true);
    expect(comparison!.moved).toBe(before.hubs.find((hub) => hub.hub === removed)!.devices);
  });

  it('--compare runs the same devices through another policy', () => {
    const toastersOnly = folder.write('toasters-only.json', {
      rules: [{ name: 'toasters', match: { registrationId: '*-tstrsd-*' } }],
    });
    const { comparison, after } = simulateJson('--compare', toastersOnly, '--id-pattern', 'sensor-{n:5}');
    expect(after!.policySource).toBe(toastersOnly);
    expect(after!.rejected.devices).toBe(5000);
    expect(comparison!.newlyRejected.reduce((sum, entry) => sum + entry.devices, 0)).toBe(5000);
  });

  it('prints a readable table', () => {
    const { code, stdout } = cli(
      'simulate',
      hashedPolicy,
      ...linked,
      '--devices',
      '2000',
      '--add-hub',
      NEW_HUB,
    );
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain('Simulated 2,000 devices (ids device-{n}, n = 0 to 1,999;');
    expect(stdout).toMatch(/^Hub +Before +Share +Expected +After +Share +Expected$/m);
    expect(stdout).toMatch(
      new RegExp(`^${NEW_HUB.replaceAll('.', '\\.')} +– +– +– +[\\d,]+ +\\d+\\.\\d% +20\\.0%$`, 'm'),
    );
    expect(stdout).toMatch(/^Moved: [\d,]+ of 2,000 devices \(\d+\.\d%\)$/m);
    expect(stdout).toMatch(/^Moved from \\ to +hub-5\.azure-devices\.net +Total$/m);
  });

  it('reads registration ids from a file', () => {
    const ids = folder.write('ids.txt', 'breakroom-contoso-tstrsd-1\nsensor-2\n');
    const { stdout } = cli(
      'simulate',
      DEFAULT_POLICY,
      '--linked-hubs',
      'x-toasters-y.net,other.net',
      '--ids',
      ids,
      '--json',
    );
    const result = JSON.parse(stdout) as SimulationResult;
    expect(result.devices).toBe(2);
    expect(result.before.rules).toEqual([
      { rule: 'toasters', devices: 1 },
      { rule: 'everything-else', devices: 1 },
    ]);
  });
});

describe('policy simulate and explain: --hub-load', () => {
  const POLICY = 'policies/examples/capacity-aware.json';
  const [hub1, hub2, hub3] = [1, 2, 3].map((n) => `contoso-hub-${n}.azure-devices.net`);
  const linked = ['--linked-hubs', [hub1, hub2, hub3].join(',')];

  it('simulate lands the fleet on the counts given, and prints each hub load', () => {
    const load = ['--hub-load', `${hub1!.toUpperCase()}=5000, ${hub3}=10`];
    const { code, stdout } = cli('simulate', POLICY, ...linked, '--devices', '8000', ...load, '--json');
    expect(code).toBe(EXIT.ok);
    const result = JSON.parse(stdout) as SimulationResult;
    expect(result.before.hubLoad!.map((tally) => [tally.start, tally.end])).toEqual([
      [5000, 6000],
      [0, 6000],
      [10, 10],
    ]);
    expect(result.before.rejected.devices).toBe(1000);
    const text = cli('simulate', POLICY, ...linked, '--devices', '8000', ...load).stdout;
    expect(text).toMatch(/^Hub load +Start +Added +End +maxDevices +Fill +State$/m);
    expect(text).toMatch(/^contoso-hub-1\.azure-devices\.net +5,000 +1,000 +6,000 +6,000 +100\.0% +full$/m);
  });

  it('explain decides with the counts given', () => {
    const body = dpsRequestBody({
      registrationId: 'sensor-1',
      group: 'sensors',
      attestation: 'symmetricKey',
      linkedHubs: [hub1!, hub2!, hub3!],
    });
    const file = folder.write('capacity-request.json', body);
    const { code, stdout } = cli('explain', POLICY, '--request', file, '--hub-load', `${hub2}=6000`);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain(`Outcome      assigned to ${hub1}`);
    expect(stdout).toContain(`             ${hub2}  6,000 devices of maxDevices 6,000 (100.0%, full)`);
    const unlinked = cli('explain', POLICY, '--request', file, '--hub-load', 'other.azure-devices.net=1');
    expect(unlinked).toMatchObject({ code: EXIT.usage, stdout: '' });
    expect(unlinked.stderr).toBe(
      "policy explain: --hub-load names 'other.azure-devices.net', which is not in the request's linkedHubs\n",
    );
  });
});

describe('policy simulate and explain: X.509', () => {
  const X509_POLICY = 'policies/examples/x509-organisation-regions.json';
  const hubs = ['--linked-hubs', 'contoso-eu-1.azure-devices.net,contoso-us-1.azure-devices.net'];

  it('--cert-orgs, --cert-expiry and --now give an X.509 fleet and its organisation table', () => {
    const args = ['simulate', X509_POLICY, ...hubs, '--devices', '400', '--now', '2026-06-01'];
    const fleet = ['--cert-orgs', 'Contoso-EU,Contoso-US', '--cert-expiry', '1d..400d'];
    const { code, stdout } = cli(...args, ...fleet, '--json');
    expect(code).toBe(EXIT.ok);
    const result = JSON.parse(stdout) as SimulationResult;
    expect(result.evaluatedAt).toBe('2026-06-01T00:00:00.000Z');
    expect(result.certificates).toContain("subject 'CN={id}, O={org}'");
    expect(result.before.organisations?.map((t) => [t.organisation, t.devices])).toEqual([
      ['Contoso-EU', 200],
      ['Contoso-US', 200],
    ]);
    expect(result.before.rules.map((r) => r.rule)).toEqual([
      'eu-rotation-due',
      'eu',
      'us-rotation-due',
      'us',
    ]);
    const text = cli(...args, ...fleet).stdout;
    expect(text).toMatch(
      /^Certificate O +contoso-eu-1\.azure-devices\.net +contoso-us-1\.azure-devices\.net +\(rejected\)$/m,
    );
  });

  it('--x509 alone: subjects CN={id}, which no organisation rule takes', () => {
    const { stdout } = cli('simulate', X509_POLICY, ...hubs, '--devices', '50', '--x509', '--json');
    const result = JSON.parse(stdout) as SimulationResult;
    expect(result.certificates).toContain("subject 'CN={id}'");
    expect(result.before.rules).toEqual([{ rule: '(fallback)', devices: 50 }]);
  });

  it('explain --now judges expiry at that date', () => {
    const body = dpsRequestBody({
      registrationId: 'meter-1',
      group: 'meters',
      attestation: 'x509',
      x509: {
        certificateInfo: { subjectName: 'CN=meter-1, O=Contoso-EU', notAfterUtc: '2027-01-01T00:00:00Z' },
      },
      linkedHubs: ['contoso-eu-1.azure-devices.net'],
    });
    const file = folder.write('x509-request.json', body);
    const ruleAt = (now: string) =>
      (
        JSON.parse(cli('explain', X509_POLICY, '--request', file, '--now', now, '--json').stdout) as {
          rule: { name: string };
        }
      ).rule.name;
    expect(ruleAt('2026-06-01')).toBe('eu');
    expect(ruleAt('2026-12-15T00:00:00Z')).toBe('eu-rotation-due');
    expect(cli('explain', X509_POLICY, '--request', file, '--now', '2026-06-01').stdout).toContain(
      'Certificate  subject CN=meter-1, O=Contoso-EU',
    );
  });
});

describe('errors', () => {
  it.each([
    ['no command', [], /^Usage:/],
    ['an unknown command', ['lint', DEFAULT_POLICY], /^policy lint: unknown command 'lint'/],
    ['an unknown option', ['check', DEFAULT_POLICY, '--fast'], /^policy check: Unknown option '--fast'/],
    ['no policy file', ['check'], /^policy check: which policy file\? \(--help for usage\)$/m],
    ['a missing file', ['check', 'nope.json'], /^policy check: cannot read policy file nope\.json: ENOENT/],
    [
      'simulate without --linked-hubs',
      ['simulate', DEFAULT_POLICY],
      /--linked-hubs <host,host,...> is required/,
    ],
    [
      'a bad --devices',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--devices', '1e5'],
      /--devices must be/,
    ],
    [
      '--ids with --devices',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--ids', 'x', '--devices', '5'],
      /cannot be combined/,
    ],
    [
      'removing an unlinked hub',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--remove-hub', 'b.net'],
      /'b\.net' is not in --linked-hubs/,
    ],
    [
      'adding a linked hub',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--add-hub', 'A.net'],
      /'A\.net' is already linked/,
    ],
    [
      'a payload that is not JSON',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--payload', '{x'],
      /--payload is not valid JSON/,
    ],
    [
      'a --now that is not a date',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--now', 'tomorrow'],
      /^policy simulate: --now must be an ISO 8601 date/,
    ],
    [
      'a --cert-expiry that is not a duration',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--cert-expiry', '1y'],
      /--cert-expiry '1y' is not a duration/,
    ],
    [
      'a --cert-subject with an unknown placeholder',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--cert-subject', 'CN={cn}'],
      /unknown placeholder \{cn\}; use \{id\}, \{n\} or \{org\}/,
    ],
    [
      'a --hub-load entry without a count',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--hub-load', 'a.net'],
      /^policy simulate: --hub-load entry 'a\.net' is not <host>=<devices>/,
    ],
    [
      'a --hub-load hub listed twice',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--hub-load', 'a.net=1,A.net=2'],
      /--hub-load lists 'A\.net' twice/,
    ],
    [
      'a --hub-load hub that is not linked',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--hub-load', 'b.net=1'],
      /--hub-load names 'b\.net', which is not in --linked-hubs$/m,
    ],
    [
      'a payload the webhook refuses',
      ['simulate', DEFAULT_POLICY, '--linked-hubs', 'a.net', '--payload', '"text"'],
      /webhook would answer 400: .*payload must be a JSON object/,
    ],
  ])('%s: one line on stderr, exit code 2', (_case, argv, message) => {
    const { code, stdout, stderr } = cli(...argv);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    if (argv.length > 0) expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('an invalid policy for explain or simulate: its problems, exit code 1', () => {
    const file = folder.write('invalid.json', { rules: [{ name: 'a', strategy: { type: 'hashd' } }] });
    const { code, stderr } = cli('simulate', file, '--linked-hubs', 'a.net');
    expect(code).toBe(EXIT.failed);
    expect(stderr).toContain('$.rules[0].strategy.type:');
  });

  it('--help prints the usage and exits 0', () => {
    const { code, stdout } = cli('simulate', '--help');
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain('--add-hub <host>');
    expect(stdout).toContain('--cert-orgs <O,O:3,...>');
    expect(stdout).toContain('--hub-load <host=n,...>');
  });
});
