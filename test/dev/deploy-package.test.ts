// The deployment package azd zips (azure.yaml `dist: .deploy`, staged by `npm run package:azure`): it holds the app
// and the lock's production packages only, and the app runs from it alone. The package is staged outside the
// repository, so a function that needed a devDependency would fail to load here: there is no node_modules above it
// to fall back on.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { describeStagedPackage } from '../../dev/deploy-package/main';
import {
  prepareOutDir,
  STAGED_MARKER,
  stageDeployPackage,
  type StagedPackage,
} from '../../dev/deploy-package/stage';
import { officialSample } from '../../dev/fixtures/dps-requests';
import { transpileInto } from '../support/transpile';

const repoRoot = path.resolve(__dirname, '../..');
const FUNCTION_KEY = 'deploy-key';
let scratch: string;
let outDir: string;
let staged: StagedPackage;

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
const manifest = readJson(path.join(repoRoot, 'package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

beforeAll(async () => {
  fs.mkdirSync(path.join(repoRoot, 'test-artifacts'), { recursive: true });
  scratch = fs.mkdtempSync(path.join(repoRoot, 'test-artifacts', 'deploy-package-'));
  transpileInto(repoRoot, ['src', 'dev'], scratch);
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dps-allocator-deploy-'));
  staged = await stageDeployPackage({
    projectRoot: repoRoot,
    compiledSrc: path.join(scratch, 'dist', 'src'),
    outDir,
  });
}, 120_000);

afterAll(() => {
  for (const folder of [scratch, outDir]) if (folder) fs.rmSync(folder, { recursive: true, force: true });
});

describe('the staged package', () => {
  it('holds the compiled app, host.json, package.json, the lock, policies and node_modules, nothing else', () => {
    expect(fs.readdirSync(outDir).sort()).toEqual([
      STAGED_MARKER,
      'dist',
      'host.json',
      'node_modules',
      'package-lock.json',
      'package.json',
      'policies',
    ]);
    expect(fs.readdirSync(path.join(outDir, 'dist'))).toEqual(['src']);
    const appFiles = fs
      .readdirSync(outDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => !file.startsWith('node_modules'));
    expect(appFiles.filter((file) => /\.(ts|map)$/.test(file) || file.includes('local.settings'))).toEqual(
      [],
    );
    const functionFiles = fs
      .readdirSync(path.join(repoRoot, 'src', 'functions'))
      .map((file) => file.replace(/\.ts$/, '.js'));
    expect(fs.readdirSync(path.join(outDir, 'dist', 'src', 'functions')).sort()).toEqual(
      functionFiles.sort(),
    );
    expect(fs.readdirSync(path.join(outDir, 'policies')).sort()).toEqual(
      fs.readdirSync(path.join(repoRoot, 'policies')).sort(),
    );
  });

  it('installs every dependency and no package that only devDependencies need', () => {
    const lockPackages = (readJson(path.join(repoRoot, 'package-lock.json')).packages ?? {}) as Record<
      string,
      { dev?: boolean }
    >;
    const devOnly = new Set(Object.keys(lockPackages).filter((key) => lockPackages[key]?.dev));
    const installed = Object.keys(
      (readJson(path.join(outDir, 'node_modules', '.package-lock.json')).packages ?? {}) as object,
    );
    expect(devOnly.size).toBeGreaterThan(100); // jest, azurite, playwright-core, ... and what they need
    expect(installed.length).toBeGreaterThan(Object.keys(manifest.dependencies).length);
    expect(installed.filter((key) => devOnly.has(key))).toEqual([]);
    const present = (name: string) => fs.existsSync(path.join(outDir, 'node_modules', name, 'package.json'));
    expect(Object.keys(manifest.dependencies).filter((name) => !present(name))).toEqual([]);
    expect(Object.keys(manifest.devDependencies).filter(present)).toEqual([]);
    expect(staged.packages).toEqual(expect.arrayContaining(Object.keys(manifest.dependencies)));
  });

  it('reports what it staged, node_modules apart', () => {
    const text = describeStagedPackage(staged, path.dirname(outDir));
    expect(text).toContain(`Deployment package staged in ${path.basename(outDir)}:`);
    expect(text).toMatch(
      new RegExp(`node_modules +${staged.packages.length} top-level packages, \\d+ files, [\\d.]+ MB`),
    );
    expect(staged.appFiles).toBeGreaterThan(
      fs.readdirSync(path.join(outDir, 'dist', 'src', 'functions')).length,
    );
  });
});

describe('the app, run from the package alone in plain node', () => {
  let child: ChildProcess | undefined;
  let started: { baseUrl: string; functions: string[]; functionsLibrary: string[] };

  beforeAll(async () => {
    // The local host (dev/, from the scratch build) serves the package's function files.
    const bootstrap = path.join(scratch, 'serve-package.js');
    fs.writeFileSync(
      bootstrap,
      `const { startFunctionsHost } = require('./dist/dev/functions-host/index.js');
const [functionsDir, appRoot] = process.argv.slice(2);
startFunctionsHost({ functionsDir, appRoot, port: 0, enableTimers: false, log: (line) => process.stderr.write(line + '\\n') })
  .then((host) => {
    const functionsLibrary = Object.keys(require.cache).filter((file) => file.includes('@azure/functions/') && file.startsWith(appRoot));
    console.log(JSON.stringify({ baseUrl: host.baseUrl, functions: host.functions.map((f) => f.name), functionsLibrary }));
    process.once('SIGTERM', () => void host.stop().then(() => process.exit(0)));
  }, (error) => { console.error(error.stack); process.exit(1); });
`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_FUNCTION_KEY: FUNCTION_KEY };
    for (const name of [
      'AUDIT_STORAGE_CONNECTION_STRING',
      'AzureWebJobsStorage',
      'ALLOCATION_POLICY',
      'NODE_PATH',
    ]) {
      delete env[name];
    }
    child = spawn(process.execPath, [bootstrap, path.join(outDir, 'dist', 'src', 'functions'), outDir], {
      cwd: outDir,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
    const line = await firstCompleteLine(
      child,
      () => stdout,
      () => stderr,
    );
    started = JSON.parse(line) as typeof started;
  }, 30_000);

  afterAll(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it('registers one function per function file, with @azure/functions from the package', () => {
    expect(started.functions).toHaveLength(fs.readdirSync(path.join(repoRoot, 'src', 'functions')).length);
    expect(started.functions).toEqual(expect.arrayContaining(['allocate', 'audit', 'dashboard']));
    expect(started.functionsLibrary.length).toBeGreaterThan(0);
  });

  it('answers DPS with the default policy read from the package', async () => {
    const response = await request(`${started.baseUrl}/api/allocate?code=${FUNCTION_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(officialSample),
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toMatchObject({
      iotHubHostName: 'custom-allocation-toasters-hub.azure-devices.net',
    });
  });

  it('serves the dashboard', async () => {
    const response = await request(`${started.baseUrl}/api/dashboard`, {
      headers: { 'x-functions-key': FUNCTION_KEY },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    await response.body.dump();
  });
});

/** The first whole line of stdout that is a JSON object: the bootstrap prints it once the host listens. */
async function firstCompleteLine(
  process: ChildProcess,
  stdout: () => string,
  stderr: () => string,
): Promise<string> {
  for (let waited = 0; waited < 20_000; waited += 50) {
    const line = stdout()
      .split('\n')
      .slice(0, -1)
      .find((text) => text.startsWith('{'));
    if (line) return line;
    if (process.exitCode !== null) throw new Error(`the host exited (${process.exitCode}):\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the host did not start within 20 s:\n${stderr()}`);
}

describe('stageDeployPackage refuses', () => {
  const compiledSrc = () => path.join(scratch, 'dist', 'src');

  it('to empty the project or a folder above it', async () => {
    await expect(
      stageDeployPackage({ projectRoot: repoRoot, compiledSrc: compiledSrc(), outDir: repoRoot }),
    ).rejects.toThrow(/holds the project/);
    await expect(
      stageDeployPackage({
        projectRoot: repoRoot,
        compiledSrc: compiledSrc(),
        outDir: path.dirname(repoRoot),
      }),
    ).rejects.toThrow(/holds the project/);
    expect(fs.existsSync(path.join(repoRoot, 'package.json'))).toBe(true);
  });

  it('to empty a folder it did not stage, and empties one it did', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'dps-allocator-out-'));
    try {
      fs.writeFileSync(path.join(folder, 'keep.txt'), 'mine');
      expect(() => prepareOutDir(folder, repoRoot)).toThrow(/not staged by package:azure/);
      expect(fs.readdirSync(folder)).toEqual(['keep.txt']);

      fs.writeFileSync(path.join(folder, STAGED_MARKER), '');
      prepareOutDir(folder, repoRoot);
      expect(fs.readdirSync(folder)).toEqual([STAGED_MARKER]);

      fs.rmSync(folder, { recursive: true });
      prepareOutDir(folder, repoRoot); // a new folder is fine too
      expect(fs.readdirSync(folder)).toEqual([STAGED_MARKER]);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('to stage without a build, saying what to run', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'dps-allocator-unbuilt-'));
    try {
      await expect(
        stageDeployPackage({ projectRoot: repoRoot, compiledSrc: empty, outDir: empty }),
      ).rejects.toThrow(/No compiled functions in .*: run `npm run build` first/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
