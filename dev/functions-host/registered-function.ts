import type {
  CapturedRegistration,
  CoreBindingInfo,
  CoreFunctionCallback,
  CoreFunctionMetadata,
} from './core-stub';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

interface RegisteredFunctionBase {
  name: string;
  /** The file whose loading registered the function. */
  sourceFile: string | undefined;
  /** The trigger binding's name and options as registered (e.g. `httpTrigger1a2b`). */
  triggerName: string;
  metadata: CoreFunctionMetadata;
  handler: CoreFunctionCallback;
}

export interface RegisteredHttpFunction extends RegisteredFunctionBase {
  kind: 'http';
  /** Route template without the route prefix: the registered `route`, or the function name. */
  route: string;
  /** Upper-case methods; @azure/functions v4 registers ['GET', 'POST'] when `methods` is omitted. */
  methods: string[];
  authLevel: AuthLevel;
}

export interface RegisteredTimerFunction extends RegisteredFunctionBase {
  kind: 'timer';
  /** The schedule as registered, possibly an `%APP_SETTING%` reference. */
  schedule: string;
  runOnStartup: boolean;
  useMonitor: boolean | undefined;
}

/** A trigger this host does not run (queue, blob, ...); listed so that nothing disappears silently. */
export interface RegisteredOtherFunction extends RegisteredFunctionBase {
  kind: 'other';
  triggerType: string;
}

export type RegisteredFunction = RegisteredHttpFunction | RegisteredTimerFunction | RegisteredOtherFunction;

// The Functions host's rule for function names.
const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;

export function describeRegistration(registration: CapturedRegistration): RegisteredFunction {
  const { metadata, handler, sourceFile } = registration;
  const where = sourceFile ? ` (registered by ${sourceFile})` : '';
  if (!FUNCTION_NAME.test(metadata.name)) {
    throw new Error(`Invalid function name "${metadata.name}"${where}: use letters, digits, "_" or "-".`);
  }
  const triggers = Object.entries(metadata.bindings ?? {}).filter(([, b]) => /trigger$/i.test(b.type ?? ''));
  const [trigger, ...others] = triggers;
  if (!trigger || others.length > 0) {
    throw new Error(`Function "${metadata.name}"${where} must have exactly one trigger binding.`);
  }
  const [triggerName, binding] = trigger;
  const base = { name: metadata.name, sourceFile, triggerName, metadata, handler };
  const type = (binding.type ?? '').toLowerCase();
  if (type === 'httptrigger') return { ...base, kind: 'http', ...httpOptions(metadata.name, binding, where) };
  if (type === 'timertrigger')
    return { ...base, kind: 'timer', ...timerOptions(metadata.name, binding, where) };
  return { ...base, kind: 'other', triggerType: binding.type ?? 'unknown' };
}

function httpOptions(
  name: string,
  binding: CoreBindingInfo,
  where: string,
): Pick<RegisteredHttpFunction, 'route' | 'methods' | 'authLevel'> {
  const route = typeof binding.route === 'string' && binding.route.trim() !== '' ? binding.route : name;
  const rawMethods = Array.isArray(binding.methods) ? binding.methods : ['GET', 'POST'];
  const methods = [...new Set(rawMethods.map((m) => String(m).toUpperCase()))];
  const authLevel = String(binding.authLevel ?? 'anonymous').toLowerCase();
  if (authLevel !== 'anonymous' && authLevel !== 'function' && authLevel !== 'admin') {
    throw new Error(`Function "${name}"${where}: unknown authLevel "${String(binding.authLevel)}".`);
  }
  return { route: route.replace(/^\/+|\/+$/g, ''), methods, authLevel };
}

function timerOptions(
  name: string,
  binding: CoreBindingInfo,
  where: string,
): Pick<RegisteredTimerFunction, 'schedule' | 'runOnStartup' | 'useMonitor'> {
  if (typeof binding.schedule !== 'string' || binding.schedule.trim() === '') {
    throw new Error(`Timer function "${name}"${where} has no schedule.`);
  }
  return {
    schedule: binding.schedule.trim(),
    runOnStartup: binding.runOnStartup === true,
    useMonitor: typeof binding.useMonitor === 'boolean' ? binding.useMonitor : undefined,
  };
}

/** Bindings besides the trigger and the http `$return` that this host does not emulate. */
export function unsupportedBindings(fn: RegisteredFunction): string[] {
  return Object.entries(fn.metadata.bindings).flatMap(([bindingName, binding]) => {
    if (bindingName === fn.triggerName) return [];
    if (bindingName === '$return' && fn.kind === 'http' && binding.type?.toLowerCase() === 'http') return [];
    return [`${bindingName} (${binding.type ?? 'unknown'})`];
  });
}
