// Function registrations captured by the local host's stand-in for the Functions host. A test file that imports
// a function file declares, before anything else:
//   jest.mock('@azure/functions-core', () => jest.requireActual('<rel>/dev/functions-host/core-stub').functionsCoreStub, { virtual: true });
// (jest.mock must be written in the test file itself: jest hoists it there.)
import { defaultFunctionRegistry, type CapturedRegistration } from '../../dev/functions-host/core-stub';

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
