// Local Azure Functions host: serves the real app.http/app.timer registrations of @azure/functions v4
// without Azure Functions Core Tools. See README.md in this folder.
export { formatFunctionsBanner } from './banner';
export {
  createFunctionsCoreStub,
  defaultFunctionRegistry,
  FunctionRegistry,
  functionsCoreStub,
  isFunctionsCoreStub,
  type CapturedRegistration,
  type CoreFunctionMetadata,
  type FunctionsCoreStub,
} from './core-stub';
export { FUNCTION_KEY_HEADER, FUNCTION_KEY_SETTING } from './function-keys';
export {
  DEFAULT_HOST,
  DEFAULT_PORT,
  startFunctionsHost,
  type FunctionsHost,
  type FunctionsHostOptions,
} from './host';
export { listFunctionFiles } from './load-functions';
export {
  applyLocalSettings,
  readLocalSettings,
  type AppliedLocalSettings,
  type LocalSettings,
} from './local-settings';
export type { HostLogSink } from './log';
export { installCoreStubForNode } from './node-hook';
export type {
  AuthLevel,
  RegisteredFunction,
  RegisteredHttpFunction,
  RegisteredOtherFunction,
  RegisteredTimerFunction,
} from './registered-function';
export { DEFAULT_MAX_BODY_BYTES } from './read-body';
