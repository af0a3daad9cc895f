// Servers that a benchmark runs in child processes, so that the load generator does not share their event loop.
// The protocol is the one of bench/allocation-http-server.ts: the child sends `{type: 'ready', ...}` once it
// serves; it answers 'usage' with `{type: 'usage', cpuMicros, ...}`; it stops on 'stop' or when the parent
// disconnects. Every child started here must be given to stopBenchChild, also on errors.
import { fork, type ChildProcess } from 'node:child_process';

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface BenchChild<Ready> {
  /** Shown in error messages and in the figures' notes, e.g. 'DPS emulator'. */
  label: string;
  process: ChildProcess;
  ready: Ready;
}

export interface ChildUsage {
  type: 'usage';
  /** process.cpuUsage() of the child (user + system), microseconds since it started. */
  cpuMicros: number;
  /** Event-loop delay since the previous 'usage'. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Forks `script` and waits for its ready message; the child is stopped again if it does not get ready. */
export async function startBenchChild<Ready extends { type: 'ready' }>(
  label: string,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<BenchChild<Ready>> {
  const child = fork(script, [...args], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the ${label} did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.on('message', (message: { type?: string }) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        resolve(message as Ready);
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the ${label} exited (${signal ?? `code ${code}`}) before it was ready`));
      });
    });
    return { label, process: child, ready };
  } catch (error) {
    await stopBenchChild(child);
    throw error;
  }
}

/** Asks a child for its usage message; rejects if the child exits first. */
export function childUsage<Usage extends ChildUsage>(child: BenchChild<unknown>): Promise<Usage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }): void => {
      if (message.type !== 'usage') return;
      cleanUp();
      resolve(message as Usage);
    };
    const onExit = (): void => {
      cleanUp();
      reject(new Error(`the ${child.label} exited while asked for its usage`));
    };
    const cleanUp = (): void => {
      child.process.off('message', onMessage);
      child.process.off('exit', onExit);
    };
    if (hasExited(child.process) || !child.process.connected) {
      reject(new Error(`the ${child.label} is not running`));
      return;
    }
    child.process.on('message', onMessage);
    child.process.once('exit', onExit);
    child.process.send('usage', (error) => {
      if (!error) return;
      cleanUp();
      reject(new Error(`the ${child.label} could not be asked for its usage: ${error.message}`));
    });
  });
}

/** Stops a child: 'stop' over IPC, then SIGTERM, then SIGKILL if it still runs. Resolves once it has exited. */
export async function stopBenchChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The callback keeps a closing channel from raising an 'error' event; SIGTERM follows anyway.
  if (child.connected) child.send('stop', () => undefined);
  const term = setTimeout(() => child.kill('SIGTERM'), STOP_GRACE_MS);
  const kill = setTimeout(() => child.kill('SIGKILL'), 2 * STOP_GRACE_MS);
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
}
