// The README's dashboard screenshot (docs/dashboard.png): starts the whole local flow of `npm start` (Azurite, the
// DPS emulator, the functions and the demo fleet with its first audit scan) on free ports in a temporary folder, so
// that it disturbs no running `npm start`, loads the dashboard in headless Chromium at 1280 px and saves the page.
//   npm run build && node dist/dev/screenshot-dashboard.js [--out docs/dashboard.png] [--dark]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureChromium, launchChromium } from './chromium';
import { startLocalStack, stopLocalStack } from './start';

const VIEWPORT = { width: 1280, height: 800 };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: 'docs/dashboard.png' }, dark: { type: 'boolean' } },
  });
  const out = path.resolve(values.out!);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const chromiumPath = await ensureChromium({ log: say });
  const appRoot = await mkdtemp(path.join(os.tmpdir(), 'dashboard-screenshot-'));
  say('Starting the local flow with the demo fleet (about 10 s)...');
  const lines: string[] = [];
  const keep = (line: string) => void lines.push(line);
  const stack = await startLocalStack({
    appRoot,
    functionsDir: path.join(__dirname, '../src/functions'),
    port: 0,
    storagePort: 0,
    dpsPort: 0,
    dataDir: path.join(appRoot, '.local'),
    enableTimers: false,
    demo: true,
    reset: false,
    log: keep,
    hostLog: keep,
    deviceRetryAfterSeconds: 0,
    deviceAssignmentDelayMs: 0,
    deviceQuotas: false,
  }).catch((error: unknown) => {
    say(lines.join('\n'));
    throw error;
  });
  try {
    const key = new URL(stack.webhookUrl!).searchParams.get('code')!;
    const browser = await launchChromium(chromiumPath);
    try {
      const page = await browser.newPage({ viewport: VIEWPORT, colorScheme: values.dark ? 'dark' : 'light' });
      await page.goto(`${stack.host.functionUrl('dashboard')}?code=${encodeURIComponent(key)}`);
      await page.waitForFunction(() => {
        const body = (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } })
          .document.body;
        return Number(body.dataset.refreshes) >= 1;
      });
      await mkdir(path.dirname(out), { recursive: true });
      await page.screenshot({ path: out, fullPage: true });
      say(`Saved ${path.relative(process.cwd(), out)}`);
    } finally {
      await browser.close();
    }
  } finally {
    await stopLocalStack(stack.parts);
    await rm(appRoot, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`screenshot-dashboard failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
