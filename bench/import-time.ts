// Cold import time of the allocate function module: what a new Functions worker pays before it can answer DPS
// (module loading, settings validation, policy parsing and compilation). Each run is a fresh node process.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { figure, type BenchOptions, type Figure } from './figures';
import { median } from './stats';

const IMPORT_GOAL_MS = 150;
const run = promisify(execFile);

async function importOnce(moduleFile: string, stub: boolean): Promise<number> {
  const probe = path.join(__dirname, 'import-probe.js');
  const { stdout } = await run(process.execPath, [probe, moduleFile, ...(stub ? ['stub'] : [])], {
    env: process.env,
    timeout: 30_000,
  });
  const lastLine = stdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(lastLine) as { ms: number }).ms;
}

export async function measureImportTime(options: BenchOptions): Promise<Figure[]> {
  const moduleFile = path.resolve(__dirname, '..', 'src', 'functions', 'allocate.js');
  const stub = existsSync(path.resolve(__dirname, '..', 'dev', 'functions-host', 'node-hook.js'));
  const runs = options.quick ? 3 : 9;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await importOnce(moduleFile, stub)); // one at a time: no contention
  return [
    figure('cold import of dist/src/functions/allocate.js (median)', median(samples), 'ms', {
      goal: { atMost: IMPORT_GOAL_MS },
      note:
        `${runs} fresh node processes, min ${Math.min(...samples).toFixed(1)} ms, max ${Math.max(...samples).toFixed(1)} ms; ` +
        (stub ? 'with the local host functions-core stub' : 'without a functions-core stub (test mode)') +
        '; includes settings, policy file read, parse and compile',
    }),
  ];
}
