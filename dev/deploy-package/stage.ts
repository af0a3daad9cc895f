// The Function App's deployment package, staged in a folder of its own (azure.yaml: `dist: .deploy`): host.json,
// package.json and its lock, policies/, the compiled src/ without source maps, and node_modules with the production
// dependencies only. The project folder itself is no package: its node_modules is ~400 MB of tools the app never
// loads (TypeScript, Jest, Azurite, Playwright, Core Tools), and a larger package makes every cold start slower.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface StageOptions {
  /** Where package.json, package-lock.json, host.json and policies/ are. */
  projectRoot: string;
  /** The compiled src/ folder. Default: <projectRoot>/dist/src. */
  compiledSrc?: string;
  /** Emptied, then filled. Default: <projectRoot>/.deploy. */
  outDir?: string;
}

export interface StagedPackage {
  outDir: string;
  appFiles: number;
  appBytes: number;
  /** Top-level installed packages, scoped ones as @scope/name. */
  packages: string[];
  nodeModulesFiles: number;
  nodeModulesBytes: number;
}

/** The staging folder, relative to the project root: azure.yaml's `dist` for the api service. */
export const DEPLOY_DIR = '.deploy';

/** Left in every staged folder: only a folder carrying it (or an empty one) is ever emptied. */
export const STAGED_MARKER = '.staged-by-package-azure';

/** Files copied as they are, relative to the project root. */
const PROJECT_FILES = ['host.json', 'package.json', 'package-lock.json'];
const PROJECT_FOLDERS = ['policies'];

export async function stageDeployPackage(options: StageOptions): Promise<StagedPackage> {
  const projectRoot = path.resolve(options.projectRoot);
  const compiledSrc = path.resolve(options.compiledSrc ?? path.join(projectRoot, 'dist', 'src'));
  const outDir = path.resolve(options.outDir ?? path.join(projectRoot, DEPLOY_DIR));
  if (!fs.existsSync(path.join(compiledSrc, 'functions'))) {
    throw new Error(`No compiled functions in ${compiledSrc}: run \`npm run build\` first.`);
  }
  const missing = [...PROJECT_FILES, ...PROJECT_FOLDERS].filter(
    (name) => !fs.existsSync(path.join(projectRoot, name)),
  );
  if (missing.length > 0)
    throw new Error(`${projectRoot} has no ${missing.join(', ')}: is it the project folder?`);
  prepareOutDir(outDir, projectRoot);

  for (const file of PROJECT_FILES) fs.copyFileSync(path.join(projectRoot, file), path.join(outDir, file));
  for (const folder of PROJECT_FOLDERS) {
    fs.cpSync(path.join(projectRoot, folder), path.join(outDir, folder), { recursive: true });
  }
  fs.cpSync(compiledSrc, path.join(outDir, 'dist', 'src'), {
    recursive: true,
    filter: (source) => !source.endsWith('.map'),
  });
  const app = measure(outDir);

  await installProductionDependencies(outDir, projectRoot);
  const nodeModules = path.join(outDir, 'node_modules');
  const modules = measure(nodeModules);
  return {
    outDir,
    appFiles: app.files,
    appBytes: app.bytes,
    packages: topLevelPackages(nodeModules),
    nodeModulesFiles: modules.files,
    nodeModulesBytes: modules.bytes,
  };
}

/**
 * Empties the staging folder, or creates it. Only a folder this script staged before (it carries STAGED_MARKER) or an
 * empty one is emptied: `--out` pointed at anything else by mistake is refused, never wiped.
 */
export function prepareOutDir(outDir: string, projectRoot: string): void {
  const relative = path.relative(outDir, projectRoot);
  if (relative === '' || !relative.startsWith('..')) {
    throw new Error(`Refusing to empty ${outDir}: it holds the project.`);
  }
  if (fs.existsSync(outDir)) {
    const entries = fs.readdirSync(outDir);
    if (entries.length > 0 && !entries.includes(STAGED_MARKER)) {
      throw new Error(
        `Refusing to empty ${outDir}: it is not empty and was not staged by package:azure (no ${STAGED_MARKER}); ` +
          'give a new or empty folder.',
      );
    }
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, STAGED_MARKER),
    'Staged by `npm run package:azure`: emptied and filled again on each run.\n',
  );
}

/**
 * `npm ci --omit=dev`: exactly the lock's production packages. The project's .npmrc (a private registry, say) is
 * used for the install and removed afterwards, as it may hold a token.
 */
async function installProductionDependencies(outDir: string, projectRoot: string): Promise<void> {
  const npmrc = path.join(projectRoot, '.npmrc');
  const stagedNpmrc = path.join(outDir, '.npmrc');
  if (fs.existsSync(npmrc)) fs.copyFileSync(npmrc, stagedNpmrc);
  try {
    await runNpm(
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
      outDir,
    );
  } finally {
    fs.rmSync(stagedNpmrc, { force: true });
  }
}

function runNpm(args: string[], cwd: string): Promise<void> {
  // Under `npm run`, npm_execpath is npm's own script: run it with this node, on every platform.
  const npmCli = process.env.npm_execpath;
  const [command, commandArgs] =
    npmCli && /\.c?js$/.test(npmCli)
      ? [process.execPath, [npmCli, ...args]]
      : [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32' && command === 'npm.cmd',
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`npm ${args.join(' ')} failed in ${cwd} (exit ${code}):\n${output.trim()}`)),
    );
  });
}

function measure(folder: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  if (!fs.existsSync(folder)) return { files, bytes };
  for (const entry of fs.readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

function topLevelPackages(nodeModules: string): string[] {
  if (!fs.existsSync(nodeModules)) return [];
  return fs
    .readdirSync(nodeModules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) =>
      name.startsWith('@')
        ? fs.readdirSync(path.join(nodeModules, name)).map((inner) => `${name}/${inner}`)
        : [name],
    )
    .sort();
}
