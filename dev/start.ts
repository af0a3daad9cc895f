// `npm start`: the local development stack, built of parts that start in order and stop in reverse.
// For now one part: the Functions host serving the compiled functions of dist/src/functions.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatFunctionsBanner, listFunctionFiles, startFunctionsHost } from './functions-host';

export interface LocalStackPart {
  name: string;
  /** Lines printed once everything has started. */
  banner: string[];
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** The project folder: local.settings.json and host.json live here (npm runs scripts from it). */
  appRoot: string;
  functionsDir: string;
  /** undefined: local.settings.json Host.LocalHttpPort, else 7071. */
  port: number | undefined;
  enableTimers: boolean;
}

export async function startFunctionsHostPart(options: LocalStackOptions): Promise<LocalStackPart> {
  if (listFunctionFiles(options.functionsDir).length === 0) {
    throw new Error(
      `No function files in ${options.functionsDir}. Functions live in src/functions (one app.http/app.timer ` +
        'per file) and `npm start` compiles them there first.',
    );
  }
  const host = await startFunctionsHost({
    functionsDir: options.functionsDir,
    appRoot: options.appRoot,
    port: options.port,
    enableTimers: options.enableTimers,
  });
  return { name: 'Functions host', banner: formatFunctionsBanner(host), stop: () => host.stop() };
}

/** Starts every part; if one fails, stops those already running and rethrows. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStackPart[]> {
  const starters = [startFunctionsHostPart];
  const parts: LocalStackPart[] = [];
  try {
    for (const start of starters) parts.push(await start(options));
  } catch (error) {
    await stopLocalStack(parts).catch(() => undefined);
    throw error;
  }
  return parts;
}

/** Stops parts in reverse order; every part gets its stop() even if an earlier one failed. */
export async function stopLocalStack(parts: readonly LocalStackPart[]): Promise<void> {
  const failures: unknown[] = [];
  for (const part of [...parts].reverse()) {
    await part.stop().catch((error: unknown) => failures.push(error));
  }
  if (failures.length > 0) throw new AggregateError(failures, 'Some parts did not stop cleanly.');
}

const USAGE = `Usage: npm start -- [--port N] [--no-timers] [--functions-dir DIR]
  --port N             HTTP port (default: local.settings.json Host.LocalHttpPort, else 7071; 0 = any free port)
  --no-timers          do not run timer functions on their schedules
  --functions-dir DIR  compiled function files to serve (default: dist/src/functions)`;

export function parseStartArgs(argv: readonly string[], cwd: string): LocalStackOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      'no-timers': { type: 'boolean' },
      'functions-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535)
      throw new Error(`--port must be 0-65535, got "${values.port}".`);
  }
  return {
    appRoot: cwd,
    functionsDir: path.resolve(cwd, values['functions-dir'] ?? 'dist/src/functions'),
    port,
    enableTimers: !values['no-timers'],
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

  let parts: LocalStackPart[];
  try {
    parts = await startLocalStack(options);
  } catch (error) {
    console.error(`npm start failed: ${(error as Error).message}`);
    process.exit(1);
  }
  console.log(['', ...parts.flatMap((part) => part.banner), '', 'Press Ctrl-C to stop.'].join('\n'));

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping...`);
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
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (require.main === module) void main();
