import fs from 'node:fs';
import path from 'node:path';
import { isFunctionsCoreStub, registryOf, type FunctionsCoreStub } from './core-stub';
import { FUNCTIONS_CORE_MODULE, installCoreStubForNode } from './node-hook';
import { describeRegistration, type RegisteredFunction } from './registered-function';

const FUNCTION_FILE = /\.(c?js|c?ts)$/;
const NOT_A_FUNCTION_FILE = /\.d\.c?ts$|\.(test|spec)\.[cm]?[jt]s$/;

export const JEST_CORE_MAPPING =
  "moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/dev/functions-host/core-module.ts' }";

/** The function files directly in `dir` (compiled .js or, under ts-jest, .ts), sorted by name. */
export function listFunctionFiles(dir: string): string[] {
  const absolute = path.resolve(dir);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(absolute, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((e) => e.isFile() && FUNCTION_FILE.test(e.name) && !NOT_A_FUNCTION_FILE.test(e.name))
    .map((e) => path.join(absolute, e.name))
    .sort();
}

/**
 * The '@azure/functions-core' module as function code will see it. In plain node the stub is installed on the
 * spot; under jest, jest.config.js maps the module to the stub (jest's loader does not go through Module._load).
 */
export function acquireFunctionsCoreStub(): FunctionsCoreStub {
  let core = tryRequireCore();
  if (core === undefined) {
    const uninstall = installCoreStubForNode();
    core = tryRequireCore();
    if (core === undefined) uninstall();
  }
  if (core === undefined) {
    throw new Error(
      `${FUNCTIONS_CORE_MODULE} is not available. Under jest, add to jest.config.js:\n  ${JEST_CORE_MAPPING}`,
    );
  }
  if (!isFunctionsCoreStub(core)) {
    throw new Error(
      `${FUNCTIONS_CORE_MODULE} is provided by something else (a real worker or another mock); ` +
        `the local host needs its own stub:\n  ${JEST_CORE_MAPPING}`,
    );
  }
  return core;
}

function tryRequireCore(): unknown {
  try {
    // A plain require on purpose: under jest it is jest's require, which honours moduleNameMapper and jest.mock.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(FUNCTIONS_CORE_MODULE) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/** Loads each file once through `stub`'s registry and describes what it registered. */
export function loadFunctionFiles(files: readonly string[], stub: FunctionsCoreStub): RegisteredFunction[] {
  const registry = registryOf(stub);
  const functions: RegisteredFunction[] = [];
  for (const file of files.map((f) => path.resolve(f))) {
    if (!fs.existsSync(file)) throw new Error(`Function file not found: ${file}`);
    const registrations = registry.captureFile(file, () => {
      try {
        // Plain require: jest's require (ts-jest for .ts) under jest, node's otherwise.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(file);
      } catch (error) {
        throw new Error(`Failed to load function file ${file}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    });
    functions.push(...registrations.map(describeRegistration));
  }
  const byName = new Map<string, RegisteredFunction>();
  for (const fn of functions) {
    const clash = byName.get(fn.name.toLowerCase());
    if (clash) {
      throw new Error(
        `Function "${fn.name}" is registered twice (${clash.sourceFile} and ${fn.sourceFile}).`,
      );
    }
    byName.set(fn.name.toLowerCase(), fn);
  }
  if (functions.length === 0) {
    throw new Error(
      `No function was registered by ${files.length} file(s): ${files.join(', ')}. A function file calls ` +
        'app.http(...) or app.timer(...) from @azure/functions. If one of them was imported before the host ' +
        'started (or @azure/functions was already used without the stub), its registrations were not captured.',
    );
  }
  return functions;
}
