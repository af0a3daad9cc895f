// Runs an exported function of a TypeScript module in a worker thread and returns its result.
// Why: Jest runs tests inside a vm context, where every global lookup (Math.imul in the hash) is ~40x slower;
// hashing 100,000 ids per scenario there takes seconds. A worker has an ordinary Node context.
import path from 'node:path';
import { Worker } from 'node:worker_threads';

// The worker transpiles .ts files on require (no type check: tsc and ts-jest do that) and calls the export.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const ts = require(workerData.typescript);
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
const result = require(workerData.file)[workerData.exportName](...workerData.args);
parentPort.postMessage(result);
`;

export async function runInWorker<T>(file: string, exportName: string, args: unknown[]): Promise<T> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file: path.resolve(file), exportName, args, typescript: require.resolve('typescript') },
  });
  try {
    return await new Promise<T>((resolve, reject) => {
      worker.once('message', (result: T) => resolve(result));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before answering`)));
    });
  } finally {
    await worker.terminate();
  }
}
