// Public surface of the Event Grid topic emulator (dev and test tooling, never deployed): a local custom topic
// with the CloudEvents 1.0 input schema that the official @azure/eventgrid publisher client sends to (README.md).
export type { EventGridEmulator, EventGridEmulatorOptions } from './emulator';
export { EVENT_GRID_MAX_BYTES, startEventGridEmulator } from './emulator';
export type { CloudEvent } from './batch';
export type { CloudEventRecord } from './records';
export type { TopicErrorBody, TopicErrorCode } from './errors';
export { TopicErrorCodes } from './errors';
export { EVENT_GRID_API_VERSION } from './server';
export type { DeliverySchedule } from './webhooks';
export { EMULATOR_DELIVERY, EVENT_GRID_DELIVERY } from './webhooks';
