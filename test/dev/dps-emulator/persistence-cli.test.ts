// The data file (state reloaded on the next start, same keys and id scope), the reused certificate, and
// the command line (arguments, environment, the ready line).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { CliUsageError, parseCliArguments, runCli } from '../../../dev/dps-emulator/cli';
import { registerWithSdk } from '../../../dev/dps-emulator/sdk-clients';
import { HUB_A, startTestEmulator, testKey } from './support/emulator';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'dps-emulator-test-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('data file', () => {
  it('reloads groups, registrations, keys and id scope on the next start', async () => {
    const dataFile = path.join(directory, 'state.json');
    const first = await startTestEmulator({ dataFile, idScope: '0ne0000AB12' });
    let etag: string;
    try {
      first.createEnrollmentGroup({
        enrollmentGroupId: 'Kept-Group',
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('kept') } },
        iotHubs: [HUB_A],
      });
      await registerWithSdk(first, 'kept-device', first.deviceKey('kept-device', 'Kept-Group'));
      first.seed({ groupIds: ['Kept-Group'], perGroup: { failed: 3 } });
      etag = first.getRegistration('kept-device')!.etag;
    } finally {
      await first.stop();
    }
    const saved = JSON.parse(await readFile(dataFile, 'utf8')) as { format: string };
    expect(saved.format).toBe('dps-emulator-state/1');

    const second = await startTestEmulator({ dataFile });
    try {
      expect(second.idScope).toBe('0ne0000AB12');
      expect(second.serviceConnectionString.replace(/:\d+;/, ':PORT;')).toBe(
        first.serviceConnectionString.replace(/:\d+;/, ':PORT;'),
      );
      expect(second.store.getGroup('kept-group')?.value.enrollmentGroupId).toBe('Kept-Group');
      expect(second.getRegistration('KEPT-DEVICE')).toMatchObject({
        status: 'assigned',
        assignedHub: HUB_A,
        etag,
      });
      expect(second.store.groupRegistrationCount('kept-group')).toBe(4);
      // The device registers again with the same derived key; the etag moves on.
      await registerWithSdk(second, 'kept-device', second.deviceKey('kept-device', 'Kept-Group'));
      expect(second.getRegistration('kept-device')!.etag).not.toBe(etag);
    } finally {
      await second.stop();
    }
  });

  it('refuses a damaged data file with a clear message', async () => {
    const dataFile = path.join(directory, 'broken.json');
    await writeFile(dataFile, '{"format":"something else"}');
    await expect(startTestEmulator({ dataFile })).rejects.toThrow(
      /broken\.json is not a saved emulator state/,
    );
    await writeFile(dataFile, 'not json');
    await expect(startTestEmulator({ dataFile })).rejects.toThrow(/not valid JSON/);
  });
});

describe('certificate directory', () => {
  it('writes the certificate as a PEM file and reuses it', async () => {
    const first = await startTestEmulator({ certificateDir: directory });
    await first.stop();
    const second = await startTestEmulator({ certificateDir: directory });
    try {
      expect(second.caCertificatePem).toBe(first.caCertificatePem);
      expect(await readFile(second.caCertificatePath, 'utf8')).toBe(second.caCertificatePem);
      expect(second.caCertificatePath.startsWith(directory)).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it('removes the temporary certificate directory on stop', async () => {
    const emulator = await startTestEmulator();
    await emulator.stop();
    await expect(readFile(emulator.caCertificatePath)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('command line', () => {
  it('reads flags and environment', () => {
    const config = parseCliArguments(
      [
        '--port',
        '0',
        '--linked-hub',
        'a.azure-devices.net=5',
        '--linked-hub',
        'b.azure-devices.net',
        '--webhook-retry',
        '2,10,20',
        '--seed-groups',
        '2',
        '--seed-per-group',
        'assigned=3,failed=1',
      ],
      { DPS_EMULATOR_DATA_FILE: 'state.json', DPS_EMULATOR_ID_SCOPE: '0ne000FROMENV' },
      '/work/dir',
    );
    expect(config.options).toMatchObject({
      port: 0,
      dataFile: '/work/dir/state.json',
      certificateDir: '/work/dir/.local/dps-emulator',
      idScope: '0ne000FROMENV',
      linkedHubs: [
        { hostName: 'a.azure-devices.net', allocationWeight: 5 },
        { hostName: 'b.azure-devices.net' },
      ],
      webhookRetry: { retries: 2, initialDelayMs: 10, incrementMs: 20 },
    });
    expect(config.seed).toEqual({ groups: 2, perGroup: { assigned: 3, failed: 1 } });
    expect(parseCliArguments([], { DPS_EMULATOR_PORT: '9443' }).options.port).toBe(9443);
    expect(parseCliArguments([], {})).toMatchObject({
      options: { port: 8443, mqttPort: 8883, mqttWebSocketPort: 443 },
      webSocketPortGiven: false,
    });
    expect(parseCliArguments(['--mqtt-port', '1883'], { DPS_EMULATOR_MQTT_WS_PORT: '8443' })).toMatchObject({
      options: { mqttPort: 1883, mqttWebSocketPort: 8443 },
      webSocketPortGiven: true,
    });
  });

  it('explains bad arguments', () => {
    expect(() => parseCliArguments(['--port', 'abc'], {})).toThrow(CliUsageError);
    expect(() => parseCliArguments(['--unknown'], {})).toThrow(CliUsageError);
    expect(() => parseCliArguments(['--mqtt-port', '70000'], {})).toThrow(/--mqtt-port/);
    expect(() => parseCliArguments(['--seed-per-group', 'weird=1'], {})).toThrow(/seed-per-group/);
    expect(() => parseCliArguments(['--webhook-retry', '1,2'], {})).toThrow(/webhook-retry/);
    expect(() => parseCliArguments(['--verified-ca', 'no-file'], {})).toThrow(/<name>=<certificate file>/);
    expect(() => parseCliArguments(['--verified-ca', 'ca=/nowhere/ca.pem'], {})).toThrow(
      /--verified-ca ca: cannot read/,
    );
  });

  it('reads verified CA certificates from files, and the emulator refuses one that does not parse', async () => {
    await writeFile(path.join(directory, 'ca.pem'), 'not a certificate');
    const config = parseCliArguments(['--verified-ca', 'fleet-ca=ca.pem'], {}, directory);
    expect(config.options.verifiedCertificates).toEqual({ 'fleet-ca': 'not a certificate' });
    await expect(
      startTestEmulator({ verifiedCertificates: config.options.verifiedCertificates }),
    ).rejects.toThrow(
      "Verified certificate 'fleet-ca' is not an X.509 certificate in PEM or base64 DER form",
    );
  });

  it('prints one JSON ready line with endpoints, id scope, connection string and CA path', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const emulator = await runCli(
      [
        ...['--port', '0', '--mqtt-port', '0', '--mqtt-ws-port', '0', '--cert-dir', directory],
        ...['--seed-groups', '1', '--seed-per-group', 'assigned=2'],
      ],
      {},
      { stdout: (line) => out.push(line), stderr: (line) => err.push(line) },
    );
    try {
      expect(out).toHaveLength(1);
      const ready = JSON.parse(out[0]!) as Record<string, string>;
      expect(ready).toMatchObject({
        deviceEndpoint: `https://127.0.0.1:${emulator!.port}`,
        serviceEndpoint: `https://127.0.0.1:${emulator!.port}`,
        idScope: emulator!.idScope,
        serviceConnectionString: emulator!.serviceConnectionString,
        caCertificate: path.join(directory, 'dps-emulator-cert.pem'),
        mqttEndpoint: `mqtts://127.0.0.1:${emulator!.mqttPort}`,
        mqttWebSocketEndpoint: `wss://127.0.0.1:${emulator!.mqttWebSocketPort}/$iothub/websocket`,
      });
      expect(ready.serviceConnectionString).toMatch(
        /^HostName=127\.0\.0\.1:\d+;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=.+$/,
      );
      expect(err.join('\n')).toContain('seeded 2 registrations');
      expect(emulator!.store.groupRegistrationCount('seed-group-001')).toBe(2);
    } finally {
      await emulator?.stop();
    }
    const help: string[] = [];
    expect(
      await runCli(['--help'], {}, { stdout: (line) => help.push(line), stderr: () => undefined }),
    ).toBeUndefined();
    expect(help[0]).toContain('Usage: npm run dps-emulator');
  });
});

describe('MQTT over WebSocket on its default port', () => {
  let holder: net.Server | undefined;

  afterEach(async () => {
    await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
    holder = undefined;
  });

  it('takes any free port, and says so, when 443 cannot be had', async () => {
    // Hold 443 where this process may (as root); elsewhere the emulator cannot bind it either.
    holder = net.createServer();
    await new Promise<void>((resolve) => {
      holder!.once('error', () => resolve());
      holder!.listen(443, '127.0.0.1', () => resolve());
    });
    const err: string[] = [];
    const emulator = await runCli(
      ['--port', '0', '--mqtt-port', '0', '--cert-dir', directory],
      {},
      { stdout: () => undefined, stderr: (line) => err.push(line) },
    );
    try {
      expect(emulator!.mqttWebSocketPort).not.toBe(443);
      expect(err).toEqual([expect.stringMatching(/could not take port 443 .*it is on \d+/)]);
    } finally {
      await emulator?.stop();
    }
    await expect(
      runCli(
        ['--port', '0', '--mqtt-port', '0', '--mqtt-ws-port', '443', '--cert-dir', directory],
        {},
        {
          stdout: () => undefined,
          stderr: () => undefined,
        },
      ),
    ).rejects.toThrow(/127\.0\.0\.1:443/);
  });
});
