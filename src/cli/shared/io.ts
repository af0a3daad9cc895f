// What a command reads and writes, passed in rather than taken from `process`, so tests run every command
// in-process and see exactly what an operator would.

export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** The environment the command reads its settings from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Relative file names (and local.settings.json) are found from here; default the working directory. */
  cwd?: string;
}

/** The output streams and environment of this process. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
