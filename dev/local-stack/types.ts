// What `npm start` is made of: parts that start in order and stop in reverse, and the options they share.
import type { QuotasOption } from '../dps-emulator';
import type { HostLogSink } from '../functions-host';

export interface LocalStackPart {
  name: string;
  /** Lines printed once everything has started. */
  readonly banner: string[];
  stop(): Promise<void>;
}

/** Azurite's usual Table port: `UseDevelopmentStorage=true` means this port. */
export const DEFAULT_STORAGE_PORT = 10002;
/** Azurite's usual Blob port, the one `UseDevelopmentStorage=true` means for blobs. */
export const DEFAULT_BLOB_PORT = 10000;
/** The DPS emulator's usual port (as `npm run dps-emulator`). */
export const DEFAULT_DPS_PORT = 8443;
/** Under the app root; git-ignored. */
export const DEFAULT_DATA_DIR = '.local';

export interface LocalStackOptions {
  /** The project folder: local.settings.json and host.json live here (npm runs scripts from it). */
  appRoot: string;
  functionsDir: string;
  /** Functions host port. undefined: local.settings.json Host.LocalHttpPort, else 7071; 0 = any free port. */
  port: number | undefined;
  /** Azurite Table service port (Blob storage on 10000 beside the default 10002); 0 = any free ports. */
  storagePort: number;
  /** DPS emulator port; 0 = any free port. */
  dpsPort: number;
  /** The emulator's MQTT-over-TLS port. Default 8883 (any free port when dpsPort is 0). */
  mqttPort?: number;
  /** The emulator's MQTT-over-WebSocket port. Default 443 where it can be bound (any free port when dpsPort is 0). */
  mqttWebSocketPort?: number;
  /** The local Event Grid topic's port. Default 8445 (any free port when dpsPort is 0). */
  eventsPort?: number;
  /** Where Azurite, the emulator and the stack keep their data between starts. */
  dataDir: string;
  enableTimers: boolean;
  /** Create the demo enrollment groups and register the simulated devices. */
  demo: boolean;
  /** Wipe the data a start would reuse before starting. */
  reset: boolean;
  /** The stack's own lines (progress, devices, configure); default stdout. */
  log?: HostLogSink;
  /** The Functions host's lines; default stdout. */
  hostLog?: HostLogSink;
  /** `retry-after` the emulator gives polling devices, seconds; default DPS's 3. Tests use 0. */
  deviceRetryAfterSeconds?: number;
  /** How long the emulator takes to assign a device, ms; default DPS-like (4000). Tests use 0. */
  deviceAssignmentDelayMs?: number;
  /** The emulator's device API quotas; default DPS's. Tests use false. */
  deviceQuotas?: QuotasOption;
  /** Aborting stops a start in progress (Ctrl-C during start-up). */
  signal?: AbortSignal;
}

/** Thrown by a start that the signal interrupted; the parts already started have been stopped. */
export class LocalStackAborted extends Error {
  override name = 'LocalStackAborted';
  constructor() {
    super('start-up interrupted');
  }
}
