import Module from 'node:module';
import { functionsCoreStub, type FunctionsCoreStub } from './core-stub';

// Plain node: make require('@azure/functions-core') return the stub. @azure/functions looks the module up
// lazily (at the first app.* call) and caches the answer, so this must run before any function file loads.

export const FUNCTIONS_CORE_MODULE = '@azure/functions-core';

type LoadFunction = (request: string, parent: unknown, isMain: boolean) => unknown;
interface ModuleWithLoad {
  _load: LoadFunction;
}
interface InstalledHook {
  stub: FunctionsCoreStub;
  original: LoadFunction;
  patched: LoadFunction;
}

// Kept on globalThis so that every copy of this module in the process sees the same hook.
const HOOK_KEY = Symbol.for('dps-allocator.functions-host.node-hook');
type GlobalWithHook = typeof globalThis & { [HOOK_KEY]?: InstalledHook };

/**
 * Hooks Module._load so that '@azure/functions-core' resolves to `stub`. Idempotent for the same stub.
 * Returns a function that removes the hook (used by tests; a host process keeps it).
 */
export function installCoreStubForNode(stub: FunctionsCoreStub = functionsCoreStub): () => void {
  const globalScope = globalThis as GlobalWithHook;
  const loader = Module as unknown as ModuleWithLoad;
  const existing = globalScope[HOOK_KEY];
  if (existing) {
    if (existing.stub !== stub) {
      throw new Error(`${FUNCTIONS_CORE_MODULE} is already stubbed with another registry in this process.`);
    }
    return () => uninstall(existing);
  }
  const original = loader._load;
  const patched: LoadFunction = function (this: unknown, request, parent, isMain) {
    if (request === FUNCTIONS_CORE_MODULE) return stub;
    return original.call(this, request, parent, isMain);
  };
  const hook: InstalledHook = { stub, original, patched };
  loader._load = patched;
  globalScope[HOOK_KEY] = hook;
  return () => uninstall(hook);
}

function uninstall(hook: InstalledHook): void {
  const globalScope = globalThis as GlobalWithHook;
  const loader = Module as unknown as ModuleWithLoad;
  if (globalScope[HOOK_KEY] !== hook) return;
  if (loader._load === hook.patched) loader._load = hook.original;
  delete globalScope[HOOK_KEY];
}
