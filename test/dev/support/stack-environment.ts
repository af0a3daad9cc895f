// The local stack sets app settings in process.env, as `npm start` does for its functions. A test of the stack
// clears them before it starts one and puts the process's own values back when it is done.

/** The settings the stack sets. */
export const STACK_SETTINGS = [
  'AzureWebJobsStorage',
  'AUDIT_STORAGE_CONNECTION_STRING',
  'DPS_CONNECTION_STRING',
  'DPS_CA_CERTIFICATE_PATH',
  'AUDIT_SCHEDULE',
  'AUDIT_ASSIGNING_GRACE_MINUTES',
  'AUDIT_EXPECTED_WEBHOOK_URL',
  'AUDIT_TABLE_PREFIX',
  'LOCAL_FUNCTION_KEY',
  'EVENTS_TOPIC_ENDPOINT',
  'EVENTS_TOPIC_KEY',
];

export interface SavedEnvironment {
  /** Removes the settings from process.env. */
  clear(): void;
  /** Puts back the values they had when saved. */
  restore(): void;
}

/** Saves the stack's settings (and `extra` names the test sets itself) as process.env holds them now. */
export function saveStackEnvironment(extra: readonly string[] = []): SavedEnvironment {
  const names = [...STACK_SETTINGS, ...extra];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  return {
    clear: () => {
      for (const name of names) delete process.env[name];
    },
    restore: () => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}
