// `npm run dps-emulator -- [options]`: starts the emulator standalone and prints one JSON line when ready
// (endpoints, id scope, connection strings, the hubs' endpoint and connection strings, CA certificate path). Stops cleanly (and saves) on SIGINT/SIGTERM.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HUB_OWNER_POLICY, HUB_READ_ONLY_POLICY } from '../iot-hub-emulator';
import type { DpsEmulator, DpsEmulatorOptions } from './emulator';
import type { QuotasOption } from './quotas';
import { DEFAULT_MQTT_PORT, DEFAULT_MQTT_WEBSOCKET_PORT, startOnStandardPorts } from './standard-ports';
import type { SeedOptions } from './seeding';
import { SEEDED_STATUSES } from './seeding';

export const USAGE = `Usage: npm run dps-emulator -- [options]

  --port <n>                      HTTPS port on 127.0.0.1 (env DPS_EMULATOR_PORT; default 8443; 0 = any free port)
  --mqtt-port <n>                 MQTT over TLS (env DPS_EMULATOR_MQTT_PORT; default 8883; 0 = any free port)
  --mqtt-ws-port <n>              MQTT over WebSocket, path /$iothub/websocket (env DPS_EMULATOR_MQTT_WS_PORT;
                                  default 443, or any free port where 443 cannot be bound)
  --hub-port <n>                  the linked IoT hubs' service API (env DPS_EMULATOR_HUB_PORT; default 0 = any free port)
  --data-file <path>              keep state in this file, reloaded on the next start (env DPS_EMULATOR_DATA_FILE)
  --cert-dir <path>               where the certificate PEM is written and reused (env DPS_EMULATOR_CERT_DIR;
                                  default .local/dps-emulator)
  --id-scope <scope>              id scope (env DPS_EMULATOR_ID_SCOPE)
  --linked-hub <host[=weight]>    a linked IoT hub; repeat for several (env DPS_EMULATOR_LINKED_HUBS, comma-separated)
  --retry-after <seconds>         retry-after of 202 answers to devices (env DPS_EMULATOR_RETRY_AFTER; default 3)
  --assignment-delay-ms <ms>      how long an assignment takes, the device polling meanwhile
                                  (env DPS_EMULATOR_ASSIGNMENT_DELAY_MS; default 4000; 0 = at once)
  --registrations-per-minute <n>  device registrations per minute (env DPS_EMULATOR_REGISTRATIONS_PER_MINUTE;
                                  default DPS's 1000); more are answered 429 with retry-after
  --polls-per-10s <n>             operation polls per 10 s per device (env DPS_EMULATOR_POLLS_PER_10S; default
                                  DPS's 5); more are answered 429 with retry-after
  --no-quotas                     neither quota (env DPS_EMULATOR_NO_QUOTAS=1)
  --verified-ca <name=file.pem>   a verified CA certificate that X.509 groups name in caReferences; repeat for several
  --resource-logs <connection>    archive DeviceOperations resource logs (attestation attempts) to this Blob storage,
                                  e.g. Azurite's (env DPS_EMULATOR_RESOURCE_LOGS; container insights-logs-deviceoperations)
  --webhook-timeout-ms <ms>       custom allocation webhook timeout per attempt (default 10000)
  --webhook-retry <n,first,step>  retries of webhook answers >= 429 (default DPS's 10,1000,9000)
  --allow-non-loopback-webhooks   also call webhooks that are not on 127.0.0.1/localhost
  --seed-groups <K>               seed K enrollment groups at start ...
  --seed-per-group <spec>         ... with these registration states each, e.g. assigned=900,failed=100
  --verbose                       log requests to stderr (method, path, status; never keys)
  --help
`;

export class CliUsageError extends Error {}

export interface CliConfig {
  options: DpsEmulatorOptions;
  seed: SeedOptions | undefined;
  verbose: boolean;
  help: boolean;
  /** The WebSocket port was chosen (not 443 by default): no fallback when it cannot be bound. */
  webSocketPortGiven: boolean;
}

function integer(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new CliUsageError(`${flag} must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}

function parseLinkedHub(spec: string): { hostName: string; allocationWeight?: number } {
  const [hostName, weight] = spec.trim().split('=');
  if (!hostName) throw new CliUsageError(`--linked-hub '${spec}' needs a host name`);
  return weight === undefined
    ? { hostName }
    : { hostName, allocationWeight: integer(weight, '--linked-hub weight', 1, 1000) };
}

function verifiedCertificates(specs: readonly string[], cwd: string): Record<string, string> {
  const certificates: Record<string, string> = {};
  for (const spec of specs) {
    const equals = spec.indexOf('=');
    const name = spec.slice(0, equals).trim();
    const file = spec.slice(equals + 1).trim();
    if (equals <= 0 || !file)
      throw new CliUsageError(`--verified-ca '${spec}' should be <name>=<certificate file>`);
    try {
      certificates[name] = readFileSync(path.resolve(cwd, file), 'utf8');
    } catch (error) {
      throw new CliUsageError(`--verified-ca ${name}: cannot read ${file} (${(error as Error).message})`);
    }
  }
  return certificates;
}

function parsePerGroup(spec: string): SeedOptions['perGroup'] {
  const perGroup: Record<string, number> = {};
  for (const part of spec.split(',')) {
    const [status, value] = part.trim().split('=');
    if (!status || value === undefined || !(SEEDED_STATUSES as readonly string[]).includes(status)) {
      throw new CliUsageError(`--seed-per-group: '${part}' should be <${SEEDED_STATUSES.join('|')}>=<count>`);
    }
    perGroup[status] = integer(value, `--seed-per-group ${status}`, 0, 1_000_000);
  }
  return perGroup;
}

function envFlag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new CliUsageError(`${name} must be 1, true, 0 or false`);
}

/** The quotas the flags ask for; undefined: DPS's. The windows stay DPS's (a minute, 10 s). */
function parseQuotas(
  off: boolean,
  registrationsPerMinute: string | undefined,
  pollsPer10s: string | undefined,
): QuotasOption | undefined {
  if (off) {
    if (registrationsPerMinute !== undefined || pollsPer10s !== undefined) {
      throw new CliUsageError(
        '--no-quotas leaves no quota to set (--registrations-per-minute, --polls-per-10s)',
      );
    }
    return false;
  }
  if (registrationsPerMinute === undefined && pollsPer10s === undefined) return undefined;
  return {
    ...(registrationsPerMinute === undefined
      ? {}
      : {
          registrations: {
            limit: integer(registrationsPerMinute, '--registrations-per-minute', 1, 1_000_000),
            windowMs: 60_000,
          },
        }),
    ...(pollsPer10s === undefined
      ? {}
      : { polls: { limit: integer(pollsPer10s, '--polls-per-10s', 1, 1_000_000), windowMs: 10_000 } }),
  };
}

export function parseCliArguments(argv: string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): CliConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'mqtt-port': { type: 'string' },
        'mqtt-ws-port': { type: 'string' },
        'hub-port': { type: 'string' },
        'data-file': { type: 'string' },
        'cert-dir': { type: 'string' },
        'id-scope': { type: 'string' },
        'linked-hub': { type: 'string', multiple: true },
        'verified-ca': { type: 'string', multiple: true },
        'resource-logs': { type: 'string' },
        'retry-after': { type: 'string' },
        'assignment-delay-ms': { type: 'string' },
        'registrations-per-minute': { type: 'string' },
        'polls-per-10s': { type: 'string' },
        'no-quotas': { type: 'boolean' },
        'webhook-timeout-ms': { type: 'string' },
        'webhook-retry': { type: 'string' },
        'allow-non-loopback-webhooks': { type: 'boolean' },
        'seed-groups': { type: 'string' },
        'seed-per-group': { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  const options: DpsEmulatorOptions = {
    port: integer(values.port ?? env.DPS_EMULATOR_PORT ?? '8443', '--port', 0, 65535),
    mqttPort: integer(
      values['mqtt-port'] ?? env.DPS_EMULATOR_MQTT_PORT ?? String(DEFAULT_MQTT_PORT),
      '--mqtt-port',
      0,
      65535,
    ),
    mqttWebSocketPort: integer(
      values['mqtt-ws-port'] ?? env.DPS_EMULATOR_MQTT_WS_PORT ?? String(DEFAULT_MQTT_WEBSOCKET_PORT),
      '--mqtt-ws-port',
      0,
      65535,
    ),
    hubPort: integer(values['hub-port'] ?? env.DPS_EMULATOR_HUB_PORT ?? '0', '--hub-port', 0, 65535),
    certificateDir: path.resolve(
      cwd,
      values['cert-dir'] ?? env.DPS_EMULATOR_CERT_DIR ?? '.local/dps-emulator',
    ),
  };
  const dataFile = values['data-file'] ?? env.DPS_EMULATOR_DATA_FILE;
  if (dataFile) options.dataFile = path.resolve(cwd, dataFile);
  const idScope = values['id-scope'] ?? env.DPS_EMULATOR_ID_SCOPE;
  if (idScope) options.idScope = idScope;
  const hubSpecs = values['linked-hub'] ?? env.DPS_EMULATOR_LINKED_HUBS?.split(',').filter((s) => s.trim());
  if (hubSpecs && hubSpecs.length > 0) options.linkedHubs = hubSpecs.map(parseLinkedHub);
  const retryAfter = values['retry-after'] ?? env.DPS_EMULATOR_RETRY_AFTER;
  if (retryAfter !== undefined) options.retryAfterSeconds = integer(retryAfter, '--retry-after', 0, 60);
  const assignmentDelay = values['assignment-delay-ms'] ?? env.DPS_EMULATOR_ASSIGNMENT_DELAY_MS;
  if (assignmentDelay !== undefined) {
    options.assignmentDelayMs = integer(assignmentDelay, '--assignment-delay-ms', 0, 600_000);
  }
  const quotas = parseQuotas(
    values['no-quotas'] ?? envFlag(env.DPS_EMULATOR_NO_QUOTAS, 'DPS_EMULATOR_NO_QUOTAS'),
    values['registrations-per-minute'] ?? env.DPS_EMULATOR_REGISTRATIONS_PER_MINUTE,
    values['polls-per-10s'] ?? env.DPS_EMULATOR_POLLS_PER_10S,
  );
  if (quotas !== undefined) options.quotas = quotas;
  if (values['webhook-timeout-ms'] !== undefined) {
    options.webhookTimeoutMs = integer(values['webhook-timeout-ms'], '--webhook-timeout-ms', 1, 300_000);
  }
  if (values['webhook-retry'] !== undefined) {
    const [retries, initialDelayMs, incrementMs] = values['webhook-retry'].split(',');
    if (retries === undefined || initialDelayMs === undefined || incrementMs === undefined) {
      throw new CliUsageError('--webhook-retry must be <retries>,<firstDelayMs>,<incrementMs>');
    }
    options.webhookRetry = {
      retries: integer(retries, '--webhook-retry retries', 0, 100),
      initialDelayMs: integer(initialDelayMs, '--webhook-retry firstDelayMs', 0, 600_000),
      incrementMs: integer(incrementMs, '--webhook-retry incrementMs', 0, 600_000),
    };
  }
  if (values['allow-non-loopback-webhooks']) options.allowNonLoopbackWebhooks = true;
  if (values['verified-ca']) options.verifiedCertificates = verifiedCertificates(values['verified-ca'], cwd);
  const resourceLogs = values['resource-logs'] ?? env.DPS_EMULATOR_RESOURCE_LOGS;
  if (resourceLogs) options.resourceLogs = { connectionString: resourceLogs };
  let seed: SeedOptions | undefined;
  if (values['seed-groups'] !== undefined || values['seed-per-group'] !== undefined) {
    if (values['seed-per-group'] === undefined)
      throw new CliUsageError('--seed-groups needs --seed-per-group');
    seed = {
      groups: integer(values['seed-groups'] ?? '1', '--seed-groups', 1, 1000),
      perGroup: parsePerGroup(values['seed-per-group']),
    };
  }
  const webSocketPortGiven = (values['mqtt-ws-port'] ?? env.DPS_EMULATOR_MQTT_WS_PORT) !== undefined;
  return { options, seed, verbose: values.verbose ?? false, help: values.help ?? false, webSocketPortGiven };
}

/** The one JSON line printed when the emulator is ready. */
export function readyLine(emulator: DpsEmulator): string {
  return JSON.stringify({
    deviceEndpoint: emulator.deviceEndpoint,
    serviceEndpoint: emulator.serviceEndpoint,
    idScope: emulator.idScope,
    serviceConnectionString: emulator.serviceConnectionString,
    readOnlyConnectionString: emulator.readOnlyConnectionString,
    sdkServiceConnectionString: emulator.sdkServiceConnectionString,
    caCertificate: emulator.caCertificatePath,
    port: emulator.port,
    mqttEndpoint: emulator.mqttEndpoint,
    mqttWebSocketEndpoint: emulator.mqttWebSocketEndpoint,
    linkedHubs: emulator.linkedHubs.map((hub) => hub.hostName),
    hubEndpoint: emulator.hubEndpoint,
    hubPort: emulator.hubPort,
    hubs: emulator.hubs.hostNames().map((hostName) => ({
      hostName,
      connectionString: emulator.hubConnectionString(hostName, HUB_OWNER_POLICY),
      readOnlyConnectionString: emulator.hubConnectionString(hostName, HUB_READ_ONLY_POLICY),
    })),
    timing: emulator.timing,
    ...(emulator.resourceLogs ? { resourceLogs: emulator.resourceLogs } : {}),
  });
}

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** Starts the emulator from command-line arguments; resolves with it once the ready line is printed. */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<DpsEmulator | undefined> {
  const config = parseCliArguments(argv, env);
  if (config.help) {
    io.stdout(USAGE);
    return undefined;
  }
  const { emulator, webSocketFallback } = await startOnStandardPorts(
    { ...config.options, ...(config.verbose ? { log: (line: string) => io.stderr(line) } : {}) },
    config.webSocketPortGiven,
  );
  if (webSocketFallback) io.stderr(webSocketFallback);
  if (config.seed) {
    const result = emulator.seed(config.seed);
    io.stderr(
      `seeded ${result.registrations} registrations in ${result.groupIds.length} groups (${Math.round(result.durationMs)} ms)`,
    );
  }
  io.stdout(readyLine(emulator));
  return emulator;
}

async function main(): Promise<void> {
  const io: CliIo = {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  };
  let emulator: DpsEmulator | undefined;
  try {
    emulator = await runCli(process.argv.slice(2), process.env, io);
  } catch (error) {
    io.stderr(
      error instanceof CliUsageError
        ? `${error.message}\n\n${USAGE}`
        : `dps-emulator: ${(error as Error).message}`,
    );
    process.exitCode = error instanceof CliUsageError ? 2 : 1;
    return;
  }
  if (!emulator) return;
  const running = emulator;
  const shutdown = () => {
    running
      .stop()
      .then(() => process.exit(0))
      .catch((error: Error) => {
        io.stderr(`dps-emulator: ${error.message}`);
        process.exit(1);
      });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) void main();
