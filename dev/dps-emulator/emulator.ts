// startDpsEmulator: one emulated DPS instance on 127.0.0.1 (HTTPS, device and service APIs on one port; the device
// API over MQTT on another), with its certificate, keys, linked hubs, store, optional data file, fault plan and
// counters, and the identity registries of its linked hubs (dev/iot-hub-emulator) on a port of their own.
import type { X509Certificate } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo, Server, Socket } from 'node:net';
import { Agent } from 'undici';
import { z } from 'zod';
import { deriveDeviceKey } from '../../src/dps/sas';
import type { HubPolicyName } from '../iot-hub-emulator';
import { IotHubs } from '../iot-hub-emulator';
import { createHubServer } from '../iot-hub-emulator/server';
import type { LinkedHub } from './allocation';
import { withAssignmentDelay } from './assignment-delay';
import type { SharedAccessPolicy } from './auth';
import { CERT_FILE_NAME, generateCertificatePems, loadOrCreateCertificate } from './certificate';
import type { WebhookSettings } from './custom-webhook';
import { DPS_WEBHOOK_RETRY } from './custom-webhook';
import { deviceCertificateAccepted, deviceTokenAccepted, matchDeviceRoute } from './device-api';
import { prepareEnrollmentGroup, prepareIndividualEnrollment, presentEnrollment } from './enrollments';
import type { FaultPlan } from './faults';
import { FaultInjector } from './faults';
import { OperationTracker } from './operations';
import type { EmulatorStateFile } from './persistence';
import { DebouncedSaver, readStateFile, STATE_FILE_FORMAT, writeStateFile } from './persistence';
import type { WebhookCallRecord } from './provisioning';
import { runRegistration } from './provisioning';
import type { SeedOptions, SeedResult } from './seeding';
import { seedStore } from './seeding';
import { createMqttServer, createMqttWebSocketServer, MQTT_WEBSOCKET_PATH } from './mqtt-endpoint';
import { createEmulatorServer, type ServerDeps } from './server';
import { matchServiceRoute } from './service-api';
import type { EmulatorStats } from './stats';
import { StatsRecorder } from './stats';
import { DeviceQuotaGuard, quotasSchema } from './quotas';
import { DPS_ASSIGNMENT_DELAY_MS, DPS_RETRY_AFTER_SECONDS, type EmulatorTiming } from './timing';
import type { RegistrationRecord } from './store';
import { EmulatorStore, presentRegistrationState } from './store';
import { parseCertificate } from './x509-info';
import {
  createBlobResourceLogSink,
  DEVICE_OPERATIONS_CONTAINER,
  emulatorResourceId,
  type ResourceLogSink,
} from './resource-logs';

/** Listens on 127.0.0.1:`port` (0: ephemeral); the error names the port. */
async function listen(server: Server, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new Error(`DPS emulator could not listen on 127.0.0.1:${port}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export const OWNER_POLICY = 'provisioningserviceowner';
export const READ_ONLY_POLICY = 'enrollmentread';
export const DEFAULT_ID_SCOPE = '0ne000E4E01';
export const DEFAULT_LINKED_HUBS: readonly LinkedHub[] = [
  { hostName: 'emulated-hub-1.azure-devices.net' },
  { hostName: 'emulated-hub-2.azure-devices.net' },
];

const base64Key = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
  .refine((key) => Buffer.from(key, 'base64').length >= 16, 'must decode to at least 16 bytes');

export const linkedHubSchema = z.object({
  hostName: z
    .string()
    .regex(
      /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/,
      'must be a host name such as my-hub.azure-devices.net',
    ),
  allocationWeight: z.number().int().min(1).max(1000).optional(),
  applyAllocationPolicy: z.boolean().optional(),
});

export const dpsEmulatorOptionsSchema = z.object({
  /** 0 (default) = an ephemeral port. Always bound to 127.0.0.1. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Default: from the data file, else DEFAULT_ID_SCOPE. */
  idScope: z
    .string()
    .regex(/^[A-Za-z0-9]{1,64}$/)
    .optional(),
  /** Hubs linked to this instance. Default: from the data file, else DEFAULT_LINKED_HUBS. */
  linkedHubs: z.array(linkedHubSchema).min(1).max(50).optional(),
  /** Keys of the owner and read-only policies. Default: from the data file, else generated. */
  ownerKey: base64Key.optional(),
  readOnlyKey: base64Key.optional(),
  /** `retry-after` (seconds) of 202 answers to devices: DPS's 3 by default (timing.ts). Tests use 0. */
  retryAfterSeconds: z.number().int().min(0).max(60).default(DPS_RETRY_AFTER_SECONDS),
  /** How long an assignment takes, `assigning` meanwhile (timing.ts; 0: at once). Tests use 0. */
  assignmentDelayMs: z.number().int().min(0).max(600_000).default(DPS_ASSIGNMENT_DELAY_MS),
  /** Device API rate limits (quotas.ts): DPS's by default; false switches them off. Tests use false. */
  quotas: quotasSchema,
  webhookTimeoutMs: z.number().int().min(1).max(300_000).default(10_000),
  /** Retries of webhook answers >= 429. Default: DPS's 10 retries, 1 s initial, +9 s. */
  webhookRetry: z
    .object({
      retries: z.number().int().min(0).max(100),
      initialDelayMs: z.number().int().min(0),
      incrementMs: z.number().int().min(0),
    })
    .default(DPS_WEBHOOK_RETRY),
  allowNonLoopbackWebhooks: z.boolean().default(false),
  /** Extra CA for https webhooks (e.g. a local Functions host with its own certificate). */
  webhookCaPem: z.string().optional(),
  defaultPageSize: z.number().int().min(1).max(100_000).default(100),
  maxPageSize: z.number().int().min(1).max(100_000).default(1000),
  /** Saves the state here (a moment after changes and on stop) and reloads it on start. */
  dataFile: z.string().min(1).optional(),
  saveDebounceMs: z.number().int().min(0).default(1000),
  /** Keeps (and reuses) the certificate in this directory. Default: a temporary directory removed on stop. */
  certificateDir: z.string().min(1).optional(),
  /** A certificate to use instead of generating one (it is still written as a PEM file). */
  certificate: z.object({ certPem: z.string().min(1), keyPem: z.string().min(1) }).optional(),
  /** Finished operations kept for polling; the oldest are dropped first. */
  maxOperations: z.number().int().min(1).default(10_000),
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Device API bodies and MQTT messages: DPS's 96 KB message limit (docs/dps-contract.md §2.5). */
  maxDeviceBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(96 * 1024),
  /**
   * Verified CA certificates (PEM) by name: what enrollment groups' `caReferences` name. DPS keeps them as
   * certificates of the instance, uploaded and verified through Azure Resource Manager.
   */
  verifiedCertificates: z.record(z.string().min(1).max(256), z.string().min(1)).default({}),
  /** The IoT hubs' service API (every linked hub, told apart by Host); 0 (default) = an ephemeral port, on 127.0.0.1. */
  hubPort: z.number().int().min(0).max(65535).default(0),
  /** The MQTT-over-TLS device endpoint; 0 (default) = an ephemeral port. Always bound to 127.0.0.1. */
  mqttPort: z.number().int().min(0).max(65535).default(0),
  /** MQTT over WebSocket (`wss://127.0.0.1:PORT/$iothub/websocket`); 0 (default) = an ephemeral port. */
  mqttWebSocketPort: z.number().int().min(0).max(65535).default(0),
  /**
   * Archive the DeviceOperations resource logs (one record per attestation attempt) to Blob storage, as a DPS
   * diagnostic setting does (resource-logs.ts, docs/dps-contract.md §4.4). Default: no resource logs.
   */
  resourceLogs: z
    .object({
      /** A connection string with a BlobEndpoint (Azurite's). */
      connectionString: z.string().min(1),
      container: z.string().min(3).max(63).default(DEVICE_OPERATIONS_CONTAINER),
      /** The instance name in the resource id the blob paths carry. */
      name: z.string().min(1).max(64).default('dps-emulator'),
    })
    .optional(),
});

export type DpsEmulatorOptions = z.input<typeof dpsEmulatorOptionsSchema> & {
  faultPlan?: FaultPlan;
  /** Request and error log lines (never headers, bodies or keys). */
  log?: (line: string) => void;
};

export interface RegistrationView {
  registrationId: string;
  status: string;
  substatus: string | undefined;
  /** The last hub the device was assigned to (kept after a failed re-registration). */
  assignedHub: string | undefined;
  deviceId: string | undefined;
  enrollmentGroupId: string | undefined;
  errorCode: number | undefined;
  errorMessage: string | undefined;
  payload: Record<string, unknown> | undefined;
  /** The initial twin DPS would have written to the hub at the last assignment that applied one. */
  initialTwin: unknown;
  etag: string;
}

export interface DpsEmulator {
  readonly port: number;
  /** Always 127.0.0.1. */
  readonly host: string;
  readonly idScope: string;
  /** `https://127.0.0.1:PORT`: device API base URL (global device endpoint). */
  readonly deviceEndpoint: string;
  /** `https://127.0.0.1:PORT`: service API base URL. */
  readonly serviceEndpoint: string;
  /** `127.0.0.1:PORT`: the host name a service connection string names. */
  readonly serviceHostName: string;
  /** The MQTT-over-TLS device endpoint's port (the device API, as `mqtts://127.0.0.1:PORT`). */
  readonly mqttPort: number;
  /** `mqtts://127.0.0.1:PORT`. */
  readonly mqttEndpoint: string;
  /** The MQTT-over-WebSocket endpoint's port. */
  readonly mqttWebSocketPort: number;
  /** `wss://127.0.0.1:PORT/$iothub/websocket`. */
  readonly mqttWebSocketEndpoint: string;
  /** `HostName=127.0.0.1:PORT;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=...` */
  readonly serviceConnectionString: string;
  /** Same, read-only policy `enrollmentread` (EnrollmentRead + RegistrationStatusRead). */
  readonly readOnlyConnectionString: string;
  /** `HostName=localhost;...`: the form the official SDK can use (port given through a PortAgent). */
  readonly sdkServiceConnectionString: string;
  readonly sdkReadOnlyConnectionString: string;
  readonly caCertificatePem: string;
  readonly caCertificatePath: string;
  readonly linkedHubs: readonly LinkedHub[];
  /** The port of the IoT hubs' service API, on 127.0.0.1. */
  readonly hubPort: number;
  /** `https://127.0.0.1:PORT`: the IoT hubs' service API; the Host header (or the token's `sr`) names the hub. */
  readonly hubEndpoint: string;
  /** `HostName=<hub>;SharedAccessKeyName=iothubowner;SharedAccessKey=...` (or `registryRead`). */
  hubConnectionString(hostName: string, policy?: HubPolicyName): string;
  /** The registries of every hub ever linked: `hubs.registry(hostName)`. */
  readonly hubs: IotHubs;
  readonly store: EmulatorStore;
  /** Counters since start or the last resetStats(). */
  readonly stats: EmulatorStats;
  /** Assignment delay, retry-after and quotas of the device API. */
  readonly timing: EmulatorTiming;
  /** The last 100 custom allocation webhook calls (request body, attempt statuses, outcome). */
  readonly recentWebhookCalls: readonly WebhookCallRecord[];
  setLinkedHubs(hubs: LinkedHub[]): void;
  /** Adds (or replaces) a verified CA certificate that groups can name in `caReferences`. */
  addVerifiedCertificate(name: string, certPem: string): void;
  setFaultPlan(plan: FaultPlan | undefined): void;
  resetStats(): void;
  seed(options: SeedOptions): SeedResult;
  /** Creates or replaces a group as PUT would (validated, keys generated when absent); returns it with keys. */
  createEnrollmentGroup(group: Record<string, unknown>): Record<string, unknown>;
  createIndividualEnrollment(enrollment: Record<string, unknown>): Record<string, unknown>;
  /** The symmetric key a device uses: the individual enrollment's, or the one derived from a group key. */
  deviceKey(registrationId: string, enrollmentGroupId?: string): string;
  /** Internal view of a registration (undefined when the device never registered). */
  getRegistration(registrationId: string): RegistrationView | undefined;
  /** The DeviceRegistrationState wire shape, as the service API returns it. */
  getRegistrationState(registrationId: string): Record<string, unknown> | undefined;
  /** Waits for registrations in progress (webhook calls and retries) to finish. */
  settled(): Promise<void>;
  /** Writes the data file now (no-op without dataFile). */
  save(): Promise<void>;
  /** Where the DeviceOperations logs go (`resourceLogs`), or undefined when they are off. */
  readonly resourceLogs: { container: string; blobPrefix: string } | undefined;
  /** Writes the queued resource log records now (they go out every half second otherwise). */
  flushResourceLogs(): Promise<void>;
  stop(): Promise<void>;
}

const RECENT_WEBHOOK_CALLS = 100;

function newPolicyKey(): string {
  return randomBytes(32).toString('base64');
}

function connectionString(host: string, policy: string, key: string): string {
  return `HostName=${host};SharedAccessKeyName=${policy};SharedAccessKey=${key}`;
}

export async function startDpsEmulator(input: DpsEmulatorOptions = {}): Promise<DpsEmulator> {
  const { faultPlan, log, ...rest } = input;
  const parsed = dpsEmulatorOptionsSchema.safeParse(rest);
  if (!parsed.success) throw new Error(`Invalid DPS emulator options: ${z.prettifyError(parsed.error)}`);
  const options = parsed.data;
  // Checked first: a bad certificate must fail the start before anything is created.
  const verifiedCertificates = new Map<string, X509Certificate>();
  const addVerifiedCertificate = (name: string, pem: string) => {
    try {
      verifiedCertificates.set(name.toLowerCase(), parseCertificate(pem));
    } catch (error) {
      throw new Error(`Verified certificate '${name}' ${(error as Error).message}`, { cause: error });
    }
  };
  for (const [name, pem] of Object.entries(options.verifiedCertificates)) addVerifiedCertificate(name, pem);

  const saved = options.dataFile ? await readStateFile(options.dataFile) : undefined;
  const savedKey = (name: string) => saved?.policies.find((policy) => policy.keyName === name)?.primaryKey;
  const idScope = options.idScope ?? saved?.idScope ?? DEFAULT_ID_SCOPE;
  let linkedHubs: readonly LinkedHub[] = options.linkedHubs ?? saved?.linkedHubs ?? DEFAULT_LINKED_HUBS;
  const policies: SharedAccessPolicy[] = [
    {
      keyName: OWNER_POLICY,
      primaryKey: options.ownerKey ?? savedKey(OWNER_POLICY) ?? newPolicyKey(),
      rights: [
        'ServiceConfig',
        'EnrollmentRead',
        'EnrollmentWrite',
        'RegistrationStatusRead',
        'RegistrationStatusWrite',
      ],
    },
    {
      keyName: READ_ONLY_POLICY,
      primaryKey: options.readOnlyKey ?? savedKey(READ_ONLY_POLICY) ?? newPolicyKey(),
      rights: ['EnrollmentRead', 'RegistrationStatusRead'],
    },
  ];

  // Certificate: kept in certificateDir, or written to a temporary directory removed on stop.
  const temporaryDir = options.certificateDir
    ? undefined
    : await mkdtemp(path.join(os.tmpdir(), 'dps-emulator-'));
  let certificate: { certPem: string; keyPem: string; certPath: string };
  if (options.certificate) {
    const certPath = path.join(options.certificateDir ?? temporaryDir!, CERT_FILE_NAME);
    await writeFile(certPath, options.certificate.certPem);
    certificate = { ...options.certificate, certPath };
  } else if (options.certificateDir) {
    certificate = await loadOrCreateCertificate(options.certificateDir);
  } else {
    const pems = await generateCertificatePems();
    const certPath = path.join(temporaryDir!, CERT_FILE_NAME);
    await writeFile(certPath, pems.certPem);
    certificate = { ...pems, certPath };
  }

  const store = new EmulatorStore();
  if (saved) store.restore(saved.store);
  const hubs = new IotHubs(saved?.hubs);
  hubs.ensure(linkedHubs.map((hub) => hub.hostName));
  const stats = new StatsRecorder();
  const abort = new AbortController();
  // Every assignment delay and webhook retry wait listens to this one signal: many at once are no leak.
  setMaxListeners(0, abort.signal);
  const sleep = (ms: number) => delay(ms, undefined, { signal: abort.signal });
  const dispatcher = new Agent({
    keepAliveTimeout: 5_000,
    ...(options.webhookCaPem ? { connect: { ca: options.webhookCaPem } } : {}),
  });
  const operations = new OperationTracker(options.maxOperations);
  let faults = faultPlan ? new FaultInjector(faultPlan) : undefined;
  const recentWebhookCalls: WebhookCallRecord[] = [];
  const webhookSettings: WebhookSettings = {
    timeoutMs: options.webhookTimeoutMs,
    retry: options.webhookRetry,
    allowNonLoopback: options.allowNonLoopbackWebhooks,
  };
  let port = 0;
  const acceptedHosts = () => ['localhost', '127.0.0.1', `localhost:${port}`, `127.0.0.1:${port}`];

  const provisioning = {
    store,
    linkedHubs: () => linkedHubs,
    webhookSettings: () => webhookSettings,
    webhookDeps: { dispatcher, sleep },
    stats,
    onWebhookCall: (call: WebhookCallRecord) => {
      recentWebhookCalls.push(call);
      if (recentWebhookCalls.length > RECENT_WEBHOOK_CALLS) recentWebhookCalls.shift();
    },
    hubs,
  };
  const serviceDeps = {
    store,
    linkedHubs: () => linkedHubs,
    authContext: () => ({
      policies,
      acceptedHosts: acceptedHosts(),
      nowSeconds: Math.floor(Date.now() / 1000),
    }),
    paging: { defaultPageSize: options.defaultPageSize, maxPageSize: options.maxPageSize },
  };
  const resourceLogs = options.resourceLogs && {
    container: options.resourceLogs.container,
    resourceId: emulatorResourceId(options.resourceLogs.name),
  };
  const resourceLogSink: ResourceLogSink | undefined =
    options.resourceLogs &&
    createBlobResourceLogSink({
      connectionString: options.resourceLogs.connectionString,
      container: options.resourceLogs.container,
      resourceId: emulatorResourceId(options.resourceLogs.name),
      log,
    });
  const deviceDeps = {
    store,
    idScope,
    resourceLogs: resourceLogSink,
    retryAfterSeconds: () => options.retryAfterSeconds,
    operations,
    nowSeconds: () => Math.floor(Date.now() / 1000),
    runRegistration: withAssignmentDelay(
      (registration: Parameters<typeof runRegistration>[1], record: RegistrationRecord) =>
        runRegistration(provisioning, registration, record),
      { delayMs: options.assignmentDelayMs, store, sleep },
    ),
    verifiedCertificate: (name: string) => verifiedCertificates.get(name.toLowerCase()),
    log,
  };

  const quotaGuard = new DeviceQuotaGuard(options.quotas, stats);
  const serverDeps: ServerDeps = {
    match: (method, segments) =>
      matchServiceRoute(method, segments, serviceDeps) ??
      quotaGuard.guard(method, segments, matchDeviceRoute(method, segments, deviceDeps)),
    stats,
    faults: () => faults,
    sleep,
    log,
    maxBodyBytes: options.maxBodyBytes,
    maxDeviceBodyBytes: options.maxDeviceBodyBytes,
  };
  const server = createEmulatorServer(certificate, serverDeps);
  const mqttDeps = {
    dispatch: serverDeps,
    idScope,
    tokenAccepted: (authorization: string, scope: string, registrationId: string) =>
      deviceTokenAccepted(authorization, scope, registrationId, deviceDeps),
    certificateAccepted: (chain: readonly X509Certificate[], scope: string, registrationId: string) =>
      deviceCertificateAccepted(chain, scope, registrationId, deviceDeps),
    // Room for the topic and headers of a message whose payload is at the limit.
    maxPacketBytes: options.maxDeviceBodyBytes + 1024,
    log,
  };
  const mqttServer = createMqttServer(certificate, mqttDeps);
  const mqttWebSocketServer = createMqttWebSocketServer(certificate, mqttDeps);
  const hubServer = createHubServer(certificate, { hubs, log, maxBodyBytes: options.maxBodyBytes });
  const listening: Server[] = [];
  try {
    for (const [listener, wanted] of [
      [server, options.port],
      [mqttServer, options.mqttPort],
      [mqttWebSocketServer, options.mqttWebSocketPort],
      [hubServer, options.hubPort],
    ] as const) {
      await listen(listener, wanted);
      listening.push(listener);
    }
  } catch (error) {
    await Promise.all(listening.map((listener) => new Promise((resolve) => listener.close(resolve))));
    await dispatcher.destroy();
    if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
    throw error;
  }
  const mqttSockets = new Set<Socket>();
  // Device connections are long-lived: stop() ends them (server.close alone would wait for every device).
  for (const listener of [mqttServer, mqttWebSocketServer]) {
    listener.on('connection', (socket: Socket) => {
      mqttSockets.add(socket);
      socket.once('close', () => mqttSockets.delete(socket));
    });
  }
  port = (server.address() as AddressInfo).port;
  const mqttPort = (mqttServer.address() as AddressInfo).port;
  const mqttWebSocketPort = (mqttWebSocketServer.address() as AddressInfo).port;
  const hubPort = (hubServer.address() as AddressInfo).port;

  const stateFile = (): EmulatorStateFile => ({
    format: STATE_FILE_FORMAT,
    idScope,
    policies,
    linkedHubs: [...linkedHubs],
    store: store.snapshot(),
    hubs: hubs.snapshot(),
  });
  const dataFile = options.dataFile;
  const saver = dataFile
    ? new DebouncedSaver(
        () => writeStateFile(dataFile, stateFile()),
        options.saveDebounceMs,
        (error) => log?.(`could not save ${dataFile}: ${error.message}`),
      )
    : undefined;
  if (saver) {
    store.onChange(() => saver.schedule());
    hubs.onChange(() => saver.schedule());
    // The first start writes the file, so that keys and id scope (and the hubs' keys) are stable from then on.
    if (!saved?.hubs) saver.schedule();
  }

  const serviceHostName = `127.0.0.1:${port}`;
  const endpoint = `https://127.0.0.1:${port}`;
  const [owner, readOnly] = policies as [SharedAccessPolicy, SharedAccessPolicy];
  let stopped: Promise<void> | undefined;

  const emulator: DpsEmulator = {
    port,
    host: '127.0.0.1',
    idScope,
    deviceEndpoint: endpoint,
    serviceEndpoint: endpoint,
    serviceHostName,
    mqttPort,
    mqttEndpoint: `mqtts://127.0.0.1:${mqttPort}`,
    mqttWebSocketPort,
    mqttWebSocketEndpoint: `wss://127.0.0.1:${mqttWebSocketPort}${MQTT_WEBSOCKET_PATH}`,
    serviceConnectionString: connectionString(serviceHostName, OWNER_POLICY, owner.primaryKey),
    readOnlyConnectionString: connectionString(serviceHostName, READ_ONLY_POLICY, readOnly.primaryKey),
    sdkServiceConnectionString: connectionString('localhost', OWNER_POLICY, owner.primaryKey),
    sdkReadOnlyConnectionString: connectionString('localhost', READ_ONLY_POLICY, readOnly.primaryKey),
    caCertificatePem: certificate.certPem,
    caCertificatePath: certificate.certPath,
    get linkedHubs() {
      return linkedHubs;
    },
    hubPort,
    hubEndpoint: `https://127.0.0.1:${hubPort}`,
    hubConnectionString: (hostName, policy) => hubs.connectionString(hostName, policy),
    hubs,
    store,
    get stats() {
      return stats.snapshot();
    },
    timing: {
      assignmentDelayMs: options.assignmentDelayMs,
      retryAfterSeconds: options.retryAfterSeconds,
      quotas: options.quotas,
    },
    recentWebhookCalls,
    setLinkedHubs(links) {
      linkedHubs = z.array(linkedHubSchema).min(1).max(50).parse(links);
      // A hub that is no longer linked keeps its registry (hubs.ts).
      hubs.ensure(linkedHubs.map((hub) => hub.hostName));
      saver?.schedule();
    },
    addVerifiedCertificate,
    setFaultPlan(plan) {
      faults = plan ? new FaultInjector(plan) : undefined;
    },
    resetStats() {
      stats.reset();
    },
    seed(seedOptions) {
      return seedStore(store, linkedHubs, seedOptions);
    },
    createEnrollmentGroup(group) {
      const { stored } = store.putGroup(
        prepareEnrollmentGroup(group, undefined, linkedHubs, (id) => store.getGroup(id)?.value.attestation),
      );
      return presentEnrollment(stored, { includeKeys: true });
    },
    createIndividualEnrollment(enrollment) {
      const { stored } = store.putIndividual(
        prepareIndividualEnrollment(
          enrollment,
          undefined,
          linkedHubs,
          (id) => store.getIndividual(id)?.value.attestation,
        ),
      );
      return presentEnrollment(stored, { includeKeys: true });
    },
    deviceKey(registrationId, enrollmentGroupId) {
      if (enrollmentGroupId === undefined) {
        const key = store.requireIndividual(registrationId).value.attestation.symmetricKey?.primaryKey;
        if (!key) throw new Error(`Enrollment '${registrationId}' has no symmetric key`);
        return key;
      }
      const groupKey = store.requireGroup(enrollmentGroupId).value.attestation.symmetricKey?.primaryKey;
      if (!groupKey) throw new Error(`Enrollment group '${enrollmentGroupId}' has no symmetric key`);
      return deriveDeviceKey(groupKey, registrationId);
    },
    getRegistration(registrationId) {
      const record = store.getRegistration(registrationId);
      if (!record) return undefined;
      return {
        registrationId: record.registrationId,
        status: record.status,
        substatus: record.substatus,
        assignedHub: record.assignedHub,
        deviceId: record.deviceId,
        enrollmentGroupId:
          record.enrollmentGroupKey === undefined
            ? undefined
            : store.getGroup(record.enrollmentGroupKey)?.value.enrollmentGroupId,
        errorCode: record.errorCode,
        errorMessage: record.errorMessage,
        payload: record.payload,
        initialTwin: record.initialTwin,
        etag: record.etag,
      };
    },
    getRegistrationState(registrationId) {
      const record = store.getRegistration(registrationId);
      return record && presentRegistrationState(record);
    },
    settled: () => operations.settled(),
    save: async () => {
      if (!saver) return;
      saver.schedule();
      await saver.flush();
    },
    resourceLogs: resourceLogs && {
      container: resourceLogs.container,
      blobPrefix: `resourceId=${resourceLogs.resourceId}/`,
    },
    flushResourceLogs: async () => {
      await resourceLogSink?.flush();
    },
    stop() {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const mqttClosed = new Promise<void>((resolve) => mqttServer.close(() => resolve()));
        const webSocketClosed = new Promise<void>((resolve) => mqttWebSocketServer.close(() => resolve()));
        const hubClosed = new Promise<void>((resolve) => hubServer.close(() => resolve()));
        server.closeAllConnections();
        hubServer.closeAllConnections();
        for (const socket of mqttSockets) socket.destroy();
        abort.abort();
        await dispatcher.destroy();
        await operations.settled();
        await saver?.flush();
        await resourceLogSink?.close();
        await closed;
        await mqttClosed;
        await webSocketClosed;
        await hubClosed;
        if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  return emulator;
}
