// A stand-in for '@azure/functions-core', the module the Azure Functions Node.js worker provides at runtime.
// When it can be required, @azure/functions v4 leaves "test mode" and hands every app.http/app.timer
// registration to registerFunction(metadata, handler); the registry below keeps them for the local host.

/** One binding of a function, as @azure/functions describes it to the worker (RpcBindingInfo). */
export interface CoreBindingInfo {
  type?: string;
  direction?: 'in' | 'out' | 'inout';
  [property: string]: unknown;
}

/** What registerFunction receives: `{ name, bindings: { <trigger>: {...}, $return: {...} }, retryOptions }`. */
export interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, CoreBindingInfo>;
  retryOptions?: unknown;
}

export type CoreFunctionCallback = (...args: unknown[]) => unknown;
export type CoreHookCallback = (context: Record<string, unknown>) => unknown;
export type CoreLogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type CoreSystemLogListener = (level: CoreLogLevel, category: string, message: string) => void;

export interface CoreDisposable {
  dispose(): void;
}

/** A registration captured from the function code, tagged with the file that made it (when known). */
export interface CapturedRegistration {
  metadata: CoreFunctionMetadata;
  handler: CoreFunctionCallback;
  sourceFile?: string;
}

class Disposable implements CoreDisposable {
  #callOnDispose: (() => unknown) | undefined;

  static from(...disposables: { dispose: () => unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((d) => d.dispose()));
  }

  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }

  dispose(): void {
    const callback = this.#callOnDispose;
    this.#callOnDispose = undefined;
    callback?.();
  }
}

/**
 * Everything the stub receives from @azure/functions: function registrations (attributed to the file being
 * loaded), hooks, the programming model and system logs. Function modules are cached by require, so a file is
 * loaded once and its registrations are reused by every later host in the same process.
 */
export class FunctionRegistry {
  readonly #byFile = new Map<string, CapturedRegistration[]>();
  readonly #unattributed: CapturedRegistration[] = [];
  readonly #hooks = new Map<string, Set<CoreHookCallback>>();
  readonly #systemLogListeners = new Set<CoreSystemLogListener>();
  #loading: CapturedRegistration[] | undefined;
  #loadingFile: string | undefined;
  programmingModel: unknown;

  record(metadata: CoreFunctionMetadata, handler: CoreFunctionCallback): CoreDisposable {
    const registration: CapturedRegistration = { metadata, handler, sourceFile: this.#loadingFile };
    const list = this.#loading ?? this.#unattributed;
    list.push(registration);
    return new Disposable(() => removeItem(list, registration));
  }

  /** Runs `load` (which requires `file`) once and returns the registrations it made. */
  captureFile(file: string, load: () => void): readonly CapturedRegistration[] {
    const known = this.#byFile.get(file);
    if (known) return known;
    if (this.#loading) throw new Error(`Cannot load ${file} while ${this.#loadingFile} is loading.`);
    const captured: CapturedRegistration[] = [];
    this.#loading = captured;
    this.#loadingFile = file;
    try {
      load();
    } finally {
      this.#loading = undefined;
      this.#loadingFile = undefined;
    }
    this.#byFile.set(file, captured);
    return captured;
  }

  /** Registrations made outside captureFile (e.g. a test imported a function file itself). */
  get unattributed(): readonly CapturedRegistration[] {
    return this.#unattributed;
  }

  addHook(hookName: string, callback: CoreHookCallback): CoreDisposable {
    let set = this.#hooks.get(hookName);
    if (!set) {
      set = new Set();
      this.#hooks.set(hookName, set);
    }
    const hooks = set;
    hooks.add(callback);
    return new Disposable(() => hooks.delete(callback));
  }

  hooks(hookName: string): CoreHookCallback[] {
    return [...(this.#hooks.get(hookName) ?? [])];
  }

  onSystemLog(listener: CoreSystemLogListener): CoreDisposable {
    this.#systemLogListeners.add(listener);
    return new Disposable(() => this.#systemLogListeners.delete(listener));
  }

  systemLog(level: CoreLogLevel, category: string, message: string): void {
    if (this.#systemLogListeners.size === 0) {
      // No host is listening: keep warnings visible, drop chatter.
      if (level === 'warning' || level === 'error' || level === 'critical') {
        console.warn(`[@azure/functions] ${level}: ${message}`);
      }
      return;
    }
    for (const listener of this.#systemLogListeners) listener(level, category, message);
  }
}

function removeItem<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}

const STUB_REGISTRY = Symbol.for('dps-allocator.functions-host.registry');

/** The shape of '@azure/functions-core' that @azure/functions 4.x uses, plus a link to its registry. */
export interface FunctionsCoreStub {
  readonly [STUB_REGISTRY]: FunctionRegistry;
  readonly version: string;
  readonly hostVersion: string;
  registerFunction(metadata: CoreFunctionMetadata, callback: CoreFunctionCallback): CoreDisposable;
  registerHook(hookName: string, callback: CoreHookCallback): CoreDisposable;
  setProgrammingModel(programmingModel: unknown): void;
  getProgrammingModel(): unknown;
  log(level: CoreLogLevel, category: string, message: string): void;
  readonly Disposable: typeof Disposable;
}

export function createFunctionsCoreStub(registry: FunctionRegistry): FunctionsCoreStub {
  return {
    [STUB_REGISTRY]: registry,
    version: '0.0.0-dps-allocator-local',
    hostVersion: '4.0.0-dps-allocator-local',
    registerFunction: (metadata, callback) => registry.record(metadata, callback),
    registerHook: (hookName, callback) => registry.addHook(hookName, callback),
    setProgrammingModel: (programmingModel) => {
      registry.programmingModel = programmingModel;
    },
    getProgrammingModel: () => registry.programmingModel,
    log: (level, category, message) => registry.systemLog(level, category, message),
    Disposable,
  };
}

export function isFunctionsCoreStub(value: unknown): value is FunctionsCoreStub {
  if (typeof value !== 'object' || value === null) return false;
  // Duck-typed: the stub may come from another copy of this module (e.g. another jest module registry).
  const registry = (value as Partial<FunctionsCoreStub>)[STUB_REGISTRY];
  return typeof registry?.captureFile === 'function';
}

export function registryOf(stub: FunctionsCoreStub): FunctionRegistry {
  return stub[STUB_REGISTRY];
}

/** The process-wide registry and stub (one per jest module registry under jest). */
export const defaultFunctionRegistry = new FunctionRegistry();
export const functionsCoreStub: FunctionsCoreStub = createFunctionsCoreStub(defaultFunctionRegistry);
