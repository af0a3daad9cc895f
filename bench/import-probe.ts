// Child process of the import-time benchmark: `node import-probe.js <module> [stub]` requires the module once,
// cold, and prints {"ms": <milliseconds>} on stdout. With `stub`, '@azure/functions-core' is first replaced by
// the local Functions host's stub (as in the host), so @azure/functions registers instead of warning.
import { existsSync } from 'node:fs';
import path from 'node:path';

const [moduleFile, mode] = process.argv.slice(2);
if (!moduleFile) throw new Error('usage: node import-probe.js <module> [stub]');

if (mode === 'stub') {
  const hookFile = path.resolve(__dirname, '..', 'dev', 'functions-host', 'node-hook.js');
  if (!existsSync(hookFile)) throw new Error(`no functions-core stub at ${hookFile}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(hookFile) as { installCoreStubForNode(): void }).installCoreStubForNode();
}

const started = process.hrtime.bigint();
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(path.resolve(moduleFile));
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(`${JSON.stringify({ ms })}\n`);
