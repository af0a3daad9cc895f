// Function registrations captured by the local host's stand-in for the Functions host: jest.config.js maps
// '@azure/functions-core' to the stub, so a function file a test imports registers here. Such a test file calls
// stopRegisteredApp() in afterAll: the allocate module opens its decision log on the next turn of the event
// loop, and that must not happen after Jest has torn the test file's environment down.
import { defaultFunctionRegistry, type CapturedRegistration } from '../../dev/functions-host/core-stub';
import { runAppHooks } from '../../dev/functions-host/hooks';

export function registeredFunction(name: string): CapturedRegistration {
  const found = defaultFunctionRegistry.unattributed.find((r) => r.metadata.name === name);
  if (!found) throw new Error(`function '${name}' was not registered`);
  return found;
}

/** The trigger binding of a registered function (httpTrigger, timerTrigger, ...). */
export function triggerOf(name: string): Record<string, unknown> {
  const bindings = Object.values(registeredFunction(name).metadata.bindings) as Record<string, unknown>[];
  const trigger = bindings.find((b) => typeof b.type === 'string' && b.type.endsWith('Trigger'));
  if (!trigger) throw new Error(`function '${name}' has no trigger binding`);
  return trigger;
}

/** Runs the app.hook.appTerminate hooks the imported function files registered, as the worker does on shutdown. */
export async function stopRegisteredApp(): Promise<void> {
  await runAppHooks(defaultFunctionRegistry, 'appTerminate', {}, process.cwd());
}
