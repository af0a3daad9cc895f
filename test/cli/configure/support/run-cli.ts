// Runs the configure CLI in-process and captures what it prints.
import { main } from '../../../../src/cli/configure/main';
import type { ConfigureDeps } from '../../../../src/cli/configure/run';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  argv: string[],
  options: { env?: Record<string, string>; deps?: ConfigureDeps } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: {
      write: (text: string) => {
        stdout += text;
      },
    },
    stderr: {
      write: (text: string) => {
        stderr += text;
      },
    },
    env: options.env ?? {},
    deps: options.deps,
  });
  return { code, stdout, stderr };
}
