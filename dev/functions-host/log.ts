import { format } from 'node:util';

/** Receives one finished line per log entry, without a trailing newline. */
export type HostLogSink = (line: string) => void;

export const stdoutLogSink: HostLogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** `2026-11-23T20:01:02.123Z [allocate] warning: message`, always on one line. */
export function formatLogLine(
  source: string,
  level: string,
  message: string,
  now: Date = new Date(),
): string {
  const oneLine = message.replace(/\s*\r?\n\s*/g, ' | ').trimEnd();
  return `${now.toISOString()} [${source}] ${level}: ${oneLine}`;
}

/** Formats context.log arguments the way console.log does. */
export function formatLogArguments(args: readonly unknown[]): string {
  return format(...args);
}

/** An Error with its stack, on one line once formatted; anything else as util.format shows it. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return format(error);
}
