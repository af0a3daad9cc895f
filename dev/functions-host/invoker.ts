import { randomBytes, randomUUID } from 'node:crypto';
import {
  InvocationContext,
  type EffectiveFunctionOptions,
  type FunctionInput,
  type FunctionOutput,
  type FunctionTrigger,
  type LogLevel,
  type TraceContext,
} from '@azure/functions';
import type { FunctionRegistry } from './core-stub';
import { applyLogHooks, invokeWithHooks, type AppHookData } from './hooks';
import { formatLogArguments, formatLogLine, type HostLogSink } from './log';
import type { RegisteredFunction } from './registered-function';

/** Creates invocation contexts whose context.log lines go to the host log, and calls handlers through hooks. */
export class Invoker {
  readonly #registry: FunctionRegistry;
  readonly #appHookData: AppHookData;
  readonly #log: HostLogSink;

  constructor(registry: FunctionRegistry, appHookData: AppHookData, log: HostLogSink) {
    this.#registry = registry;
    this.#appHookData = appHookData;
    this.#log = log;
  }

  /** `traceParent`: the caller's W3C traceparent header, if any (else a new trace starts). */
  createContext(fn: RegisteredFunction, traceParent?: string): InvocationContext {
    const context: InvocationContext = new InvocationContext({
      invocationId: randomUUID(),
      functionName: fn.name,
      options: effectiveOptions(fn),
      traceContext: traceContextFor(traceParent),
      logHandler: (level: LogLevel, ...args: unknown[]) => {
        const entry = applyLogHooks(this.#registry, level, formatLogArguments(args), context);
        if (entry.level !== 'none') this.#log(formatLogLine(fn.name, entry.level, entry.message));
      },
    });
    return context;
  }

  invoke(fn: RegisteredFunction, inputs: unknown[], context: InvocationContext): Promise<unknown> {
    return invokeWithHooks(this.#registry, this.#appHookData, fn.handler, inputs, context);
  }
}

/** context.options as the worker derives it from the registered bindings. */
function effectiveOptions(fn: RegisteredFunction): EffectiveFunctionOptions {
  const extraInputs: FunctionInput[] = [];
  const extraOutputs: FunctionOutput[] = [];
  let returnBinding: FunctionOutput | undefined;
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    const described = { ...binding, type: binding.type ?? 'unknown', name };
    if (name === fn.triggerName) continue;
    if (name === '$return') returnBinding = described;
    else if (binding.direction === 'in') extraInputs.push(described);
    else extraOutputs.push(described);
  }
  const triggerBinding = fn.metadata.bindings[fn.triggerName] ?? {};
  const trigger: FunctionTrigger = {
    ...triggerBinding,
    type: triggerBinding.type ?? 'unknown',
    name: fn.triggerName,
  };
  return { trigger, return: returnBinding, extraInputs, extraOutputs };
}

const TRACE_PARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The worker always passes a trace context; continue the caller's trace or start one. */
function traceContextFor(incoming: string | undefined): TraceContext {
  const traceParent =
    incoming && TRACE_PARENT.test(incoming)
      ? incoming
      : `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
  return { traceParent, traceState: undefined, attributes: {} };
}
