// Public surface of the DPS emulator (dev tooling, never deployed).
export type { DpsEmulator, DpsEmulatorOptions, RegistrationView } from './emulator';
export {
  DEFAULT_ID_SCOPE,
  DEFAULT_LINKED_HUBS,
  OWNER_POLICY,
  READ_ONLY_POLICY,
  dpsEmulatorOptionsSchema,
  startDpsEmulator,
} from './emulator';
export type { LinkedHub } from './allocation';
export type { FaultPlan } from './faults';
export type { SeedOptions, SeedResult } from './seeding';
export { DEFAULT_SEED_FAILURES } from './seeding';
export type { EmulatorStats } from './stats';
export type { WebhookCallRecord } from './provisioning';
export type { WebhookRetrySchedule } from './custom-webhook';
export { DPS_WEBHOOK_RETRY } from './custom-webhook';
export { ErrorCodes } from './errors';
export type { EmulatorStore, RegistrationRecord } from './store';
export type { ServiceRight, SharedAccessPolicy } from './auth';
export type { EmulatorTiming } from './timing';
export { DPS_ASSIGNMENT_DELAY_MS, DPS_RETRY_AFTER_SECONDS, FAST_TIMING } from './timing';
export type { QuotasOption, QuotaWindow } from './quotas';
export { DPS_QUOTAS } from './quotas';
