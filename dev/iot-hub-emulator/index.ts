// Public surface of the IoT hub emulator (dev tooling, never deployed): the identity registries of the DPS
// emulator's linked hubs, served over HTTPS (server.ts) and in process (IotHubs, HubRegistry).
export type { HubPolicy, HubPolicyName, HubRight } from './auth';
export { HUB_OWNER_POLICY, HUB_READ_ONLY_POLICY, HUB_RIGHTS } from './auth';
export type { HubAuthentication, HubAuthenticationType, HubDeviceStatus } from './device-record';
export type { HubErrorBody, HubErrorCode } from './errors';
export { HubErrorCodes, HubHttpError } from './errors';
export type { EmulatedHub, HubSnapshot } from './hubs';
export { IotHubs } from './hubs';
export type { DeviceIdentityJson, DeviceTwinJson } from './presentation';
export type { DeviceStateData, IdentityAuthentication, RegistryStatistics } from './registry';
export { HubRegistry } from './registry';
export { HUB_API_VERSIONS, QUERY_PAGE } from './service-api';
