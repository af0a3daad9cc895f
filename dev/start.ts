// `npm start`: the whole flow on this machine, built of parts that start in order and stop in reverse: Azurite
// (tables), the DPS emulator, the app settings, the Functions host and, unless --no-demo, the demo (enrollment
// groups pointed at the local webhook by `configure`, simulated devices, a first audit scan). See
// dev/local-stack/README.md.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Azurite } from './azurite';
import type { DpsEmulator } from './dps-emulator';
import type { EventGridEmulator } from './event-grid-emulator';
import { listFunctionFiles, type FunctionsHost } from './functions-host';
import { formatLogLine, stdoutLogSink } from './functions-host/log';
import { renderEventLine } from '../src/cli/audit/render-events';
import { startAzuritePart } from './local-stack/azurite-part';
import { startDemoPart, type DemoResult } from './local-stack/demo-part';
import { startEmulatorPart } from './local-stack/emulator-part';
import { DEFAULT_EVENTS_PORT, startEventsPart } from './local-stack/events-part';
import { startFunctionsPart } from './local-stack/functions-part';
import { displayPath, localStackPaths, resetLocalData, settingsRecordFile } from './local-stack/paths';
import { startSettingsPart, type LocalDefault, type SettingsPart } from './local-stack/settings-part';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_DPS_PORT,
  DEFAULT_STORAGE_PORT,
  LocalStackAborted,
  type LocalStackOptions,
  type LocalStackPart,
} from './local-stack/types';

export { LocalStackAborted };
export type { LocalStackOptions, LocalStackPart };

/** Local defaults of the app settings; yours (environment, local.settings.json) win. */
export const LOCAL_AUDIT_SCHEDULE = '*/20 * * * * *';
export const LOCAL_ASSIGNING_GRACE_MINUTES = '1';

export interface LocalStack {
  /** In start order. */
  parts: LocalStackPart[];
  azurite: Azurite;
  emulator: DpsEmulator;
  /** The local Event Grid topic the functions publish their lifecycle events to. */
  topic: EventGridEmulator;
  settings: SettingsPart;
  host: FunctionsHost;
  /** The allocate URL with its key (secret). */
  webhookUrl: string | undefined;
  demo: DemoResult | undefined;
}

function checkFunctionFiles(functionsDir: string): void {
  if (listFunctionFiles(functionsDir).length === 0) {
    throw new Error(
      `No function files in ${functionsDir}. Functions live in src/functions (one app.http/app.timer ` +
        'per file) and `npm start` compiles them there first.',
    );
  }
}

/** Starts every part; if one fails (or the signal aborts the start), stops those already running and rethrows. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  checkFunctionFiles(options.functionsDir); // before anything listens
  const paths = localStackPaths(options.dataDir);
  const write = options.log ?? stdoutLogSink;
  const log = (message: string) => write(formatLogLine('local-stack', 'information', message));
  const shown = (target: string) => displayPath(options.appRoot, target);
  if (options.reset) {
    const removed = await resetLocalData(paths);
    log(`--reset: removed ${removed.map(shown).join(', ')}`);
  }

  const parts: LocalStackPart[] = [];
  const started = async <T extends LocalStackPart>(start: () => Promise<T>): Promise<T> => {
    if (options.signal?.aborted) throw new LocalStackAborted();
    const part = await start();
    parts.push(part);
    return part;
  };
  try {
    const azurite = await started(() =>
      startAzuritePart({ port: options.storagePort, paths, appRoot: options.appRoot }),
    );
    const emulator = await started(() =>
      startEmulatorPart({
        port: options.dpsPort,
        mqttPort: options.mqttPort,
        mqttWebSocketPort: options.mqttWebSocketPort,
        paths,
        appRoot: options.appRoot,
        retryAfterSeconds: options.deviceRetryAfterSeconds,
        assignmentDelayMs: options.deviceAssignmentDelayMs,
        quotas: options.deviceQuotas,
        resourceLogsConnectionString: azurite.azurite.connectionString,
        log: (line) => write(formatLogLine('dps-emulator', 'warning', line)),
      }),
    );
    const events = await started(() =>
      startEventsPart({
        port: options.eventsPort ?? (options.dpsPort === 0 ? 0 : DEFAULT_EVENTS_PORT),
        keyFile: paths.eventsKeyFile,
        describe: renderEventLine,
        print: (line) => write(formatLogLine('events', 'information', line)),
      }),
    );
    const defaults: LocalDefault[] = [
      { name: 'AzureWebJobsStorage', value: azurite.storageConnectionString, writeToFile: true },
      { name: 'AUDIT_STORAGE_CONNECTION_STRING', value: azurite.storageConnectionString, writeToFile: true },
      // Read-only: the audit needs EnrollmentRead and RegistrationStatusRead only.
      {
        name: 'DPS_CONNECTION_STRING',
        value: emulator.emulator.readOnlyConnectionString,
        writeToFile: true,
      },
      { name: 'DPS_CA_CERTIFICATE_PATH', value: emulator.emulator.caCertificatePath, writeToFile: true },
      ...(emulator.emulator.resourceLogs
        ? [
            {
              name: 'AUDIT_DPS_LOGS_CONTAINER',
              value: emulator.emulator.resourceLogs.container,
              writeToFile: true,
              showValue: true,
            },
            {
              name: 'AUDIT_DPS_LOGS_PREFIX',
              value: emulator.emulator.resourceLogs.blobPrefix,
              writeToFile: true,
              showValue: true,
            },
          ]
        : []),
      // The demo hubs are the emulator's IoT hub registries: the hub-load timer reads their device counts.
      {
        name: 'HUB_LOAD_HUBS',
        value: emulator.emulator.linkedHubs.map((hub) => hub.hostName).join(','),
        writeToFile: true,
      },
      {
        name: 'HUB_LOAD_CONNECTION_STRINGS',
        value: emulator.emulator.linkedHubs
          .map((hub) => emulator.emulator.hubConnectionString(hub.hostName, 'registryRead'))
          .join('|'),
      },
      { name: 'HUB_LOAD_ENDPOINT', value: emulator.emulator.hubEndpoint, showValue: true },
      ...events.settings,
      { name: 'AUDIT_SCHEDULE', value: LOCAL_AUDIT_SCHEDULE, showValue: true },
      { name: 'AUDIT_ASSIGNING_GRACE_MINUTES', value: LOCAL_ASSIGNING_GRACE_MINUTES, showValue: true },
    ];
    const settings = await started(() =>
      startSettingsPart({
        appRoot: options.appRoot,
        recordFile: settingsRecordFile(options.appRoot),
        defaults,
        // Named in the banner when the stack rewrites its own values because one of these changed.
        basis: {
          'storage port': String(azurite.azurite.port),
          'DPS port': String(emulator.emulator.port),
          'events port': new URL(events.topic.endpoint).port,
          'data folder': shown(paths.dataDir),
        },
      }),
    );
    const functions = await started(() =>
      startFunctionsPart({
        appRoot: options.appRoot,
        functionsDir: options.functionsDir,
        port: options.port,
        enableTimers: options.enableTimers,
        paths,
        settings,
        log: options.hostLog,
      }),
    );
    let demo: DemoResult | undefined;
    if (options.demo) {
      if (!functions.webhookUrl) throw new Error('The demo needs the allocate function; or use --no-demo.');
      demo = (
        await started(() =>
          startDemoPart({
            emulator: emulator.emulator,
            host: functions.host,
            functionKey: functions.functionKey,
            dataDir: paths.dataDir,
            log: options.log,
            signal: options.signal,
          }),
        )
      ).result;
    }
    if (options.signal?.aborted) throw new LocalStackAborted();
    parts.push({
      name: 'Data',
      banner: [`Data: ${shown(paths.dataDir)} (\`npm start -- --reset\` starts from scratch)`],
      stop: async () => undefined,
    });
    return {
      parts,
      azurite: azurite.azurite,
      emulator: emulator.emulator,
      topic: events.topic,
      settings,
      host: functions.host,
      webhookUrl: functions.webhookUrl,
      demo,
    };
  } catch (error) {
    await stopLocalStack(parts).catch(() => undefined);
    throw error;
  }
}

/** Stops parts in reverse order; every part gets its stop() even if an earlier one failed. */
export async function stopLocalStack(parts: readonly LocalStackPart[]): Promise<void> {
  const failures: unknown[] = [];
  for (const part of [...parts].reverse()) {
    await part.stop().catch((error: unknown) => failures.push(error));
  }
  if (failures.length > 0) throw new AggregateError(failures, 'Some parts did not stop cleanly.');
}

const USAGE = `Usage: npm start -- [options]
  --no-demo            only the functions, Azurite and the DPS emulator: no demo groups, devices or first scan
  --port N             Functions host port (default: local.settings.json Host.LocalHttpPort, else 7071; 0 = any free)
  --storage-port N     Azurite Table port (default ${DEFAULT_STORAGE_PORT}, Blob on 10000, as UseDevelopmentStorage=true means)
  --dps-port N         DPS emulator port (default ${DEFAULT_DPS_PORT})
  --mqtt-port N        the emulator's MQTT over TLS port (default 8883)
  --mqtt-ws-port N     the emulator's MQTT over WebSocket port (default 443, else any free port)
  --events-port N      the local Event Grid topic's port (default ${DEFAULT_EVENTS_PORT})
  --data-dir DIR       where the data is kept between starts (default ${DEFAULT_DATA_DIR})
  --reset              wipe the stored tables, emulator state and function key first
  --no-timers          do not run timer functions on their schedules
  --functions-dir DIR  compiled function files to serve (default: dist/src/functions)`;

function portOption(name: string, value: string | undefined, fallback: number): number;
function portOption(name: string, value: string | undefined, fallback: undefined): number | undefined;
function portOption(
  name: string,
  value: string | undefined,
  fallback: number | undefined,
): number | undefined {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`--${name} must be 0-65535, got "${value}".`);
  return port;
}

export function parseStartArgs(argv: readonly string[], cwd: string): LocalStackOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      'storage-port': { type: 'string' },
      'dps-port': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'mqtt-ws-port': { type: 'string' },
      'events-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'no-demo': { type: 'boolean' },
      'no-timers': { type: 'boolean' },
      reset: { type: 'boolean' },
      'functions-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  return {
    appRoot: cwd,
    functionsDir: path.resolve(cwd, values['functions-dir'] ?? 'dist/src/functions'),
    port: portOption('port', values.port, undefined),
    storagePort: portOption('storage-port', values['storage-port'], DEFAULT_STORAGE_PORT),
    dpsPort: portOption('dps-port', values['dps-port'], DEFAULT_DPS_PORT),
    mqttPort: portOption('mqtt-port', values['mqtt-port'], undefined),
    mqttWebSocketPort: portOption('mqtt-ws-port', values['mqtt-ws-port'], undefined),
    eventsPort: portOption('events-port', values['events-port'], undefined),
    dataDir: path.resolve(cwd, values['data-dir'] ?? DEFAULT_DATA_DIR),
    enableTimers: !values['no-timers'],
    demo: !values['no-demo'],
    reset: values.reset ?? false,
  };
}

async function main(): Promise<void> {
  let options: LocalStackOptions | 'help';
  try {
    options = parseStartArgs(process.argv.slice(2), process.cwd());
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }

  // Signals are handled from the start: Ctrl-C during start-up stops the parts already running.
  const abort = new AbortController();
  let stack: LocalStack | undefined;
  let stopping = false;
  const stop = (parts: readonly LocalStackPart[]) =>
    stopLocalStack(parts).then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`Stopped with errors: ${String(error)}`);
        process.exit(1);
      },
    );
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping...`);
    abort.abort();
    if (stack) void stop(stack.parts);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    stack = await startLocalStack({ ...options, signal: abort.signal });
  } catch (error) {
    if (error instanceof LocalStackAborted) {
      console.log('Stopped.');
      process.exit(0);
    }
    console.error(`npm start failed: ${(error as Error).message}`);
    process.exit(1);
  }
  if (stopping) return void stop(stack.parts);
  console.log(['', ...stack.parts.flatMap((part) => part.banner), '', 'Press Ctrl-C to stop.'].join('\n'));
}

if (require.main === module) void main();
