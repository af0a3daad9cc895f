// Debian's Chromium for the dashboard's browser test and screenshot, driven by playwright-core (which ships no
// browser). Found at /usr/bin/chromium (or CHROMIUM_PATH); when it is missing and we are root on a machine with
// apt-get (a CI container), it is installed with apt-get; otherwise the error says what to install.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
const APT_GET = '/usr/bin/apt-get';
/** apt-get update and install take about 20 s on a warm mirror; a cold one can take minutes. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** What this machine's Chromium needs to run headless in a container, and no traffic of its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const CHROMIUM_MISSING =
  'Chromium is needed for the dashboard browser test. Install it with `apt-get install chromium` (Debian; ' +
  'as root, the test does it itself) or point CHROMIUM_PATH at a Chromium or Chrome binary.';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const run = promisify(execFile);

async function aptInstallChromium(aptGet: string, log: (line: string) => void): Promise<void> {
  const options = {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: INSTALL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  };
  log('Chromium is missing: apt-get update && apt-get install -y chromium');
  try {
    await run(aptGet, ['update'], options);
    await run(aptGet, ['install', '-y', '--no-install-recommends', 'chromium'], options);
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    const tail = (stderr || message).trim().split('\n').slice(-5).join('\n');
    throw new Error(`${CHROMIUM_MISSING}\napt-get failed:\n${tail}`, { cause: error });
  }
}

export interface EnsureChromiumOptions {
  /** Progress lines (the install). */
  log?: (line: string) => void;
  /** Default process.env (CHROMIUM_PATH). */
  env?: NodeJS.ProcessEnv;
  /** Where Debian's package puts it; default /usr/bin/chromium. */
  chromiumPath?: string;
  /** Default /usr/bin/apt-get. */
  aptGet?: string;
  /** Default: whether this process runs as root. */
  isRoot?: boolean;
}

/**
 * The path of a Chromium to drive: CHROMIUM_PATH, else /usr/bin/chromium, installed first when possible
 * (root and apt-get). Throws CHROMIUM_MISSING otherwise.
 */
export async function ensureChromium(options: EnsureChromiumOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const chromiumPath = options.chromiumPath ?? DEFAULT_CHROMIUM_PATH;
  const aptGet = options.aptGet ?? APT_GET;
  const configured = env.CHROMIUM_PATH?.trim();
  if (configured) {
    if (isExecutable(configured)) return configured;
    throw new Error(`CHROMIUM_PATH=${configured} is not an executable file. ${CHROMIUM_MISSING}`);
  }
  if (isExecutable(chromiumPath)) return chromiumPath;
  if ((options.isRoot ?? process.getuid?.() === 0) && isExecutable(aptGet)) {
    await aptInstallChromium(aptGet, options.log ?? (() => undefined));
    if (isExecutable(chromiumPath)) return chromiumPath;
  }
  throw new Error(CHROMIUM_MISSING);
}

/** Headless Chromium with a fresh temporary profile (playwright removes it on close). */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}
