import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { transpileInto } from '../support/transpile';

// Plain node, as `npm start` runs it: dev/ and src/ are transpiled into a scratch project (inside the repository so
// that node_modules resolve), a compiled-style function file goes to dist/src/functions, and start.js is spawned
// with --no-demo and ephemeral ports (Azurite and the DPS emulator start too, with data under the scratch folder).
// This is the path where the Module._load hook, not jest's module map, provides '@azure/functions-core'.

const repoRoot = path.resolve(__dirname, '../..');
let scratch: string;

beforeAll(() => {
  fs.mkdirSync(path.join(repoRoot, 'test-artifacts'), { recursive: true });
  scratch = fs.mkdtempSync(path.join(repoRoot, 'test-artifacts', 'functions-host-node-'));
  transpileInto(repoRoot, ['dev', 'src'], scratch);
  const functionsDir = path.join(scratch, 'dist/src/functions');
  fs.mkdirSync(functionsDir, { recursive: true });
  fs.copyFileSync(
    path.join(__dirname, '../fixtures/functions-js/hello.js'),
    path.join(functionsDir, 'hello.js'),
  );
  fs.mkdirSync(path.join(scratch, 'empty'));
  fs.writeFileSync(
    path.join(scratch, 'local.settings.json'),
    JSON.stringify({ IsEncrypted: false, Values: { LOCAL_FUNCTION_KEY: 'node-key' } }),
  );
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[]): Started {
  const env = { ...process.env };
  delete env.LOCAL_FUNCTION_KEY;
  const child = spawn(process.execPath, ['dist/dev/start.js', ...args], { cwd: scratch, env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitFor(started: Started, pattern: RegExp): Promise<RegExpMatchArray> {
  for (let waited = 0; waited < 15_000; waited += 50) {
    const found = pattern.exec(started.stdout());
    if (found) return found;
    if (started.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} in output:\n${started.stdout()}\n${started.stderr()}`);
}

const EPHEMERAL = ['--port', '0', '--storage-port', '0', '--dps-port', '0'];

it('npm start serves compiled functions through the stub, with keys from local.settings.json', async () => {
  const started = startCli([...EPHEMERAL, '--no-demo']);
  try {
    const [, baseUrl] = await waitFor(
      started,
      /helloJs: \[GET\] (http:\/\/127\.0\.0\.1:\d+)\/api\/hello\/\{name\}/,
    );
    expect(started.stdout()).toMatch(
      /secretJs: \[GET\] http:\/\/127\.0\.0\.1:\d+\/api\/secret {2}\(auth: function\)/,
    );
    expect(started.stdout()).toMatch(
      /Keys: 'function' and 'admin' functions need the LOCAL_FUNCTION_KEY value/,
    );

    const hello = await request(`${baseUrl}/api/hello/Node`);
    expect(await hello.body.json()).toEqual({ greeting: 'Hello, Node!' });
    const denied = await request(`${baseUrl}/api/secret`);
    await denied.body.dump();
    expect(denied.statusCode).toBe(401);
    const allowed = await request(`${baseUrl}/api/secret`, { headers: { 'x-functions-key': 'node-key' } });
    expect(await allowed.body.text()).toBe('secret');

    started.child.kill('SIGINT');
    expect(await started.exited).toBe(0);
    expect(started.stdout()).toContain('Stopped.');
    expect(started.stdout()).toMatch(/DPS emulator: https:\/\/127\.0\.0\.1:\d+ \(device and service APIs\)/);
    expect(started.stdout()).not.toContain('Demo:');
    expect(started.stderr()).not.toMatch(/test mode/i);
  } finally {
    if (started.child.exitCode === null) started.child.kill('SIGKILL');
  }
});

it('npm start explains an empty functions folder and exits 1', async () => {
  const started = startCli([...EPHEMERAL, '--functions-dir', 'empty']);
  expect(await started.exited).toBe(1);
  expect(started.stderr()).toMatch(
    /npm start failed: No function files in .*empty\. Functions live in src\/functions/,
  );
});
