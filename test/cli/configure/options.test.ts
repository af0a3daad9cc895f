// The configure command line: help, usage errors (exit 2, one line, no value echoed) and how options and the
// environment combine. Nothing here reaches a network.
import { parseConfigureArgs, USAGE } from '../../../src/cli/configure/options';
import { runCli } from './support/run-cli';

const CS = `HostName=my-dps.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${Buffer.alloc(32, 5).toString('base64')}`;
const URL_WITH_KEY = 'https://app.azurewebsites.net/api/allocate?code=k3y-value-123';
const BASE = ['--connection-string', CS, '--enrollment-group', 'g1'];
const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';

describe('configure --help', () => {
  it('prints the usage and exits 0, whatever else is on the line', async () => {
    for (const argv of [['--help'], ['-h'], ['--bogus', '--help']]) {
      const run = await runCli(argv);
      expect(run).toEqual({ code: 0, stdout: USAGE, stderr: '' });
    }
    expect(USAGE).toContain('--enrollment-groups <a,b,...>');
    expect(USAGE).toContain('--dry-run');
  });
});

describe('configure usage errors', () => {
  it.each([
    [[], /name at least one --enrollment-group/],
    [['--enrollment-group', 'g1', '--webhook-url', URL_WITH_KEY], /no DPS to talk to/],
    [[...BASE], /--webhook-url is required/],
    [
      [...BASE, '--webhook-url', 'http://app.azurewebsites.net/api/allocate?code=k3y-value-123'],
      /must use https/,
    ],
    [
      [
        '--connection-string',
        CS,
        '--dps-host',
        'x.azure-devices-provisioning.net',
        '--enrollment-group',
        'g',
        '--webhook-url',
        URL_WITH_KEY,
      ],
      /either --connection-string or --dps-host/,
    ],
    [
      ['--connection-string', 'HostName=x', '--enrollment-group', 'g', '--webhook-url', URL_WITH_KEY],
      /missing SharedAccessKeyName, SharedAccessKey/,
    ],
    [
      ['--dps-host', 'https://x/y', '--enrollment-group', 'g', '--webhook-url', URL_WITH_KEY],
      /--dps-host must be a host name/,
    ],
    [
      ['--connection-string', CS, '--enrollment-group=-bad', '--webhook-url', URL_WITH_KEY],
      /not a valid enrollment id/,
    ],
    [
      ['--connection-string', CS, '--enrollment-group', 'ends-with-dot.', '--webhook-url', URL_WITH_KEY],
      /not a valid enrollment id .*ending with a letter or digit/,
    ],
    [
      ['--connection-string', CS, '--enrollment-group', '-bad', '--webhook-url', URL_WITH_KEY],
      /--enrollment-group: write a value that starts with '-' as --enrollment-group=<value>/,
    ],
    [[...BASE, '--webhook-url', URL_WITH_KEY, '--dry-run=yes'], /--dry-run takes no value/],
    [[...BASE, '--webhook-url', URL_WITH_KEY, '--anonymous'], /--anonymous means no function key/],
    [
      [
        ...BASE,
        '--webhook-url',
        URL_WITH_KEY,
        '--function-app',
        'app',
        '--resource-group',
        'rg',
        '--subscription',
        SUBSCRIPTION,
      ],
      /one way only/,
    ],
    [
      [...BASE, '--webhook-url', 'https://app.azurewebsites.net/api/allocate', '--function-app', 'app'],
      /needs --resource-group and --subscription/,
    ],
    [
      [...BASE, '--webhook-url', URL_WITH_KEY, '--subscription', SUBSCRIPTION],
      /--subscription is used only with --function-app/,
    ],
    [
      [
        ...BASE,
        '--webhook-url',
        'https://app.azurewebsites.net/api/allocate',
        '--function-app',
        'app',
        '--resource-group',
        'rg',
        '--subscription',
        'nope',
      ],
      /subscription id \(a GUID\)/,
    ],
    [
      [...BASE, '--webhook-url', URL_WITH_KEY, '--linked-hubs', 'hub.azure-devices.net'],
      /--linked-hubs applies only with --create/,
    ],
    [
      [...BASE, '--webhook-url', URL_WITH_KEY, '--create', '--attestation', 'x509'],
      /symmetricKey enrollments only/,
    ],
    [
      [...BASE, '--webhook-url', URL_WITH_KEY, '--create', '--reprovision-policy', 'sometimes'],
      /migrate, reset or never/,
    ],
    [
      [...BASE, '--webhook-url', URL_WITH_KEY, '--create', '--primary-key', 'c2hvcnQ='],
      /base64 key of 16 to 64 bytes/,
    ],
    [
      [...BASE, '--webhook-url', URL_WITH_KEY, '--create', '--linked-hubs', 'not a host'],
      /IoT hub host names/,
    ],
    [
      [...BASE, '--webhook-url', URL_WITH_KEY, '--api-version', 'latest'],
      /--api-version must look like 2021-10-01/,
    ],
    [[...BASE, '--webhook-url', URL_WITH_KEY, 'stray'], /unexpected argument/],
    [[...BASE, '--webhook-url'], /--webhook-url needs a value/],
  ])('%j -> exit 2', async (argv, message) => {
    const run = await runCli(argv as string[]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^configure: [^\n]+ \(see --help\)\n$/); // one line
  });

  it('never echoes the value of a mistyped option or a secret', async () => {
    const run = await runCli([...BASE, '--webhook-url', URL_WITH_KEY, '--function-kye=SuperSecretValue99']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('configure: unknown option --function-kye (see --help)\n');

    const bad = await runCli([
      '--connection-string',
      CS,
      '--enrollment-group',
      'g1',
      '--webhook-url',
      `${URL_WITH_KEY}#x`,
    ]);
    expect(bad.stderr).toContain('fragment');
    expect(bad.stderr).not.toContain('k3y-value-123');
    expect(bad.stderr).not.toContain(CS.split('SharedAccessKey=')[1]);
  });

  it('reports an unreadable CA certificate file as a usage error, before contacting DPS', async () => {
    const run = await runCli([
      ...BASE,
      '--webhook-url',
      URL_WITH_KEY,
      '--ca-certificate',
      '/nonexistent/ca.pem',
    ]);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'configure: cannot read the CA certificate file /nonexistent/ca.pem (see --help)\n',
    });
  });
});

describe('parseConfigureArgs', () => {
  it('collects targets from every form, once each (ids are case-insensitive)', () => {
    const command = parseConfigureArgs(
      [
        '--connection-string',
        CS,
        '--enrollment-group',
        'a, b',
        '--enrollment-groups',
        'B,c',
        '--enrollment-group',
        'd',
        '--individual-enrollment',
        'dev-1,dev-2',
        '--webhook-url',
        URL_WITH_KEY,
      ],
      {},
    );
    expect(command.targets).toEqual([
      { kind: 'enrollmentGroup', id: 'a' },
      { kind: 'enrollmentGroup', id: 'b' },
      { kind: 'enrollmentGroup', id: 'd' },
      { kind: 'enrollmentGroup', id: 'c' },
      { kind: 'individualEnrollment', id: 'dev-1' },
      { kind: 'individualEnrollment', id: 'dev-2' },
    ]);
    expect(command).toMatchObject({
      keySource: { kind: 'url' },
      apiVersion: '2021-10-01',
      dryRun: false,
      json: false,
    });
    expect(command.create).toBeUndefined();
  });

  it('takes the DPS from flags before the environment, SAS before Entra', () => {
    const args = ['--enrollment-group', 'g', '--webhook-url', URL_WITH_KEY];
    const env = { DPS_CONNECTION_STRING: CS, DPS_HOST_NAME: 'env.azure-devices-provisioning.net' };
    expect(parseConfigureArgs(args, env).dps).toEqual({ kind: 'sas', connectionString: CS });
    expect(parseConfigureArgs(args, { DPS_HOST_NAME: env.DPS_HOST_NAME }).dps).toEqual({
      kind: 'entra',
      hostName: 'env.azure-devices-provisioning.net',
    });
    expect(
      parseConfigureArgs(['--dps-host', 'flag.azure-devices-provisioning.net', ...args], env).dps,
    ).toEqual({
      kind: 'entra',
      hostName: 'flag.azure-devices-provisioning.net',
    });
  });

  it('finds the function key in the flag, the URL, the environment, or an ARM lookup', () => {
    const args = ['--connection-string', CS, '--enrollment-group', 'g'];
    const plain = 'https://app.azurewebsites.net/api/allocate';
    expect(
      parseConfigureArgs([...args, '--webhook-url', plain, '--function-key', 'flag-key-1'], {}).keySource,
    ).toEqual({
      kind: 'given',
      key: 'flag-key-1',
    });
    expect(
      parseConfigureArgs([...args, '--webhook-url', plain], { ALLOCATE_FUNCTION_KEY: 'env-key-1' }).keySource,
    ).toEqual({
      kind: 'given',
      key: 'env-key-1',
    });
    expect(
      parseConfigureArgs([...args, '--webhook-url', URL_WITH_KEY], { ALLOCATE_FUNCTION_KEY: 'env-key-1' })
        .keySource,
    ).toEqual({
      kind: 'url',
    });
    expect(
      parseConfigureArgs([...args, '--webhook-url', plain, '--function-app', 'func-app'], {
        AZURE_RESOURCE_GROUP: 'rg-from-azd',
        AZURE_SUBSCRIPTION_ID: SUBSCRIPTION,
      }).keySource,
    ).toEqual({
      kind: 'lookup',
      function: {
        subscriptionId: SUBSCRIPTION,
        resourceGroup: 'rg-from-azd',
        functionApp: 'func-app',
        functionName: 'allocate',
      },
    });
    expect(
      parseConfigureArgs([...args, '--webhook-url', plain, '--anonymous'], {
        ALLOCATE_FUNCTION_KEY: 'x-key-9',
      }).keySource,
    ).toEqual({
      kind: 'anonymous',
    });
  });

  it('reads the create options', () => {
    const command = parseConfigureArgs(
      [
        ...BASE,
        '--webhook-url',
        URL_WITH_KEY,
        '--create',
        '--linked-hubs',
        'h1.azure-devices.net,h2.azure-devices.net',
        '--iot-edge',
        '--reprovision-policy',
        'never',
        '--dry-run',
        '--json',
        '--api-version',
        '2019-03-31',
      ],
      { DPS_CA_CERTIFICATE_PATH: '/tmp/ca.pem' },
    );
    expect(command).toMatchObject({
      create: {
        attestation: 'symmetricKey',
        iotHubs: ['h1.azure-devices.net', 'h2.azure-devices.net'],
        iotEdge: true,
        reprovision: 'never',
      },
      dryRun: true,
      json: true,
      apiVersion: '2019-03-31',
      caCertificatePath: '/tmp/ca.pem',
    });
  });
});
