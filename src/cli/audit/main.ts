// `npm run audit -- <command>`: list, history, scans, findings, scan, decisions and hubs (commands.ts). `main`
// takes its streams, environment and folder as arguments, so tests run it in-process.
import { EXIT } from '../shared/exit-codes';
import { runMain } from '../shared/run-main';
import { UsageError } from '../shared/usage-error';
import { COMMANDS, CliSession, commandUsage, usage, type AuditCliIo } from './commands';
import { explainFailure } from './failures';

export type { AuditCliIo } from './commands';

/** Runs one command; resolves with the exit code: 0 done, 1 failed, 2 bad arguments. */
export async function main(argv: readonly string[], io: AuditCliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(`${usage()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr.write(
      `audit: unknown command '${name}'; use ${Object.keys(COMMANDS).join(', ')} (--help for usage)\n`,
    );
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${commandUsage(command)}\n`);
    return EXIT.ok;
  }
  const session = new CliSession(io);
  try {
    return await command.run(args, session);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`audit ${name}: ${error.message} (see --help)\n`);
      return EXIT.usage;
    }
    io.stderr.write(`audit ${name}: ${explainFailure(error, session.storeInUse)}\n`);
    return EXIT.failed;
  }
}

if (require.main === module) runMain(main, { exitWhenDone: true });
