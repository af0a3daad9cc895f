import type { InvocationContext } from '@azure/functions';
import type { CoreFunctionCallback, CoreLogLevel, FunctionRegistry } from './core-stub';

// Runs the hooks registered with app.hook.* the way the Node.js worker does: the library wraps each core
// context object, so changes a hook makes (inputs, handler, result, error, log message) are read back from it.

/** Shared by every hook of one host for its lifetime (the worker's appHookData). */
export type AppHookData = Record<string, unknown>;

export async function runAppHooks(
  registry: FunctionRegistry,
  hookName: 'appStart' | 'appTerminate',
  appHookData: AppHookData,
  functionAppDirectory: string,
): Promise<void> {
  for (const hook of registry.hooks(hookName)) {
    await hook({ hookData: appHookData, appHookData, functionAppDirectory });
  }
}

/** Calls `handler(...inputs, context)` between the preInvocation and postInvocation hooks. */
export async function invokeWithHooks(
  registry: FunctionRegistry,
  appHookData: AppHookData,
  handler: CoreFunctionCallback,
  inputs: unknown[],
  invocationContext: InvocationContext,
): Promise<unknown> {
  const hookData: Record<string, unknown> = {};
  const pre: Record<string, unknown> = {
    hookData,
    appHookData,
    invocationContext,
    inputs,
    functionCallback: handler,
  };
  for (const hook of registry.hooks('preInvocation')) await hook(pre);

  const finalInputs = pre.inputs as unknown[];
  const post: Record<string, unknown> = { hookData, appHookData, invocationContext, inputs: finalInputs };
  try {
    post.result = await (pre.functionCallback as CoreFunctionCallback)(...finalInputs, invocationContext);
  } catch (error) {
    post.error = error;
  }
  for (const hook of registry.hooks('postInvocation')) await hook(post);
  if (post.error !== undefined && post.error !== null) throw post.error;
  return post.result;
}

/** Lets log hooks see (and change) a user log entry; returns the level and message to print. */
export function applyLogHooks(
  registry: FunctionRegistry,
  level: CoreLogLevel,
  message: string,
  invocationContext: InvocationContext,
): { level: CoreLogLevel; message: string } {
  const hooks = registry.hooks('log');
  if (hooks.length === 0) return { level, message };
  const context: Record<string, unknown> = {
    hookData: {},
    level,
    message,
    category: 'user',
    invocationContext,
  };
  for (const hook of hooks) void hook(context);
  return { level: context.level as CoreLogLevel, message: String(context.message) };
}
