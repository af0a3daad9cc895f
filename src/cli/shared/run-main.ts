// Runs a command's `main` as the process: its exit code becomes the process's.
import { processIo, type CliIo } from './io';

export interface RunOptions {
  /**
   * Where relative paths start. npm runs scripts in the package root (where local.settings.json is); INIT_CWD is
   * the folder the operator typed the command in (where the files named on the command line are). Default root.
   */
  cwd?: 'package-root' | 'typed-in';
  /**
   * End the process once the output is written, rather than when the event loop empties: idle keep-alive
   * connections (to storage) would hold it open for a while.
   */
  exitWhenDone?: boolean;
}

export function runMain(
  main: (argv: readonly string[], io: CliIo) => number | Promise<number>,
  options: RunOptions = {},
): void {
  const cwd = options.cwd === 'typed-in' ? (process.env.INIT_CWD ?? process.cwd()) : process.cwd();
  void Promise.resolve(main(process.argv.slice(2), { ...processIo(), cwd })).then((code) => {
    process.exitCode = code;
    if (options.exitWhenDone) process.stdout.write('', () => process.exit(code));
  });
}
