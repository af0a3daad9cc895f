// `npm run configure -- ...`: points DPS enrollments at the allocate webhook (run.ts). `main` takes its
// output streams and environment as arguments, so tests run it in-process.
import { DpsError } from '../../dps/errors';
import { EXIT } from '../shared/exit-codes';
import type { CliIo } from '../shared/io';
import { runMain } from '../shared/run-main';
import { UsageError } from '../shared/usage-error';
import { ConfigureError } from './errors';
import { parseConfigureArgs, USAGE, wantsHelp, type Env } from './options';
import { runConfigure, type ConfigureDeps } from './run';
import { SecretScrubber } from './scrub';

export interface ConfigureIo extends CliIo {
  /** Replaces the DPS and ARM clients (tests). */
  deps?: ConfigureDeps;
}

/** Options whose value is a secret, and the environment variables that hold one. */
const SECRET_OPTIONS = [
  '--function-key',
  '--connection-string',
  '--primary-key',
  '--secondary-key',
  '--webhook-url',
];
const SECRET_ENV = ['ALLOCATE_FUNCTION_KEY', 'DPS_CONNECTION_STRING'];

/** Every secret the arguments and environment carry, whatever else happens to them afterwards. */
function rememberSecrets(argv: readonly string[], env: Env, scrubber: SecretScrubber): void {
  const values: string[] = [];
  argv.forEach((arg, index) => {
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    if (!SECRET_OPTIONS.includes(name!)) return;
    const value = inline ?? argv[index + 1];
    if (value !== undefined) values.push(value);
  });
  for (const name of SECRET_ENV) {
    const value = env[name];
    if (value) values.push(value);
  }
  for (const value of values) {
    const sasKey = /SharedAccessKey\s*=\s*([^;]+)/i.exec(value)?.[1];
    if (sasKey !== undefined) {
      scrubber.add(sasKey.trim());
      continue;
    }
    const code = /[?&]code=([^&#]+)/i.exec(value)?.[1];
    if (code !== undefined) {
      scrubber.add(code);
      try {
        scrubber.add(decodeURIComponent(code));
      } catch {
        // not an encoded value
      }
      continue;
    }
    if (!/^https?:\/\//i.test(value)) scrubber.add(value);
  }
}

function oneLine(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  const text = typeof message === 'string' ? message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Runs the command; resolves with the exit code: 0 done, 1 failed, 2 bad options. */
export async function main(argv: readonly string[], io: ConfigureIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  const env: Env = io.env ?? process.env;
  const scrubber = new SecretScrubber();
  rememberSecrets(argv, env, scrubber);
  const output = {
    out: (line: string) => io.stdout.write(`${scrubber.scrub(line)}\n`),
    err: (line: string) => io.stderr.write(`${scrubber.scrub(line)}\n`),
  };
  try {
    const command = parseConfigureArgs(argv, env);
    return await runConfigure(command, output, scrubber, io.deps);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`configure: ${oneLine(error)} (see --help)`);
      return EXIT.usage;
    }
    if (error instanceof ConfigureError || error instanceof DpsError) {
      output.err(`configure: ${oneLine(error)}`);
      return EXIT.failed;
    }
    output.err(`configure: unexpected error: ${oneLine(error)}`);
    return EXIT.failed;
  }
}

if (require.main === module) runMain(main);
