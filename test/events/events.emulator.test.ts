// Lifecycle events end to end with the real @azure/eventgrid client and the local topic emulator: a scan against
// the DPS emulator and Azurite and allocate's handler publish every event type, each valid by its schema; a scan
// that crashes between its history and problem writes publishes, with its rerun, exactly the ids of a clean scan;
// a topic outage fails neither the scan nor an allocation, and the queued events arrive once it is back; no event
// holds a key, a SAS token or a `code=`.
import { setTimeout as delay } from 'node:timers/promises';
import { startEventGridEmulator, type EventGridEmulator } from '../../dev/event-grid-emulator';
import { dpsRequestBody, HEATPUMPS_HUB, TOASTERS_HUB } from '../../dev/fixtures/dps-requests';
import type { AuditStore } from '../../src/audit/store';
import { runAuditScan } from '../../src/audit/scan/run-audit';
import { createAllocateHandler } from '../../src/decisions/allocate-handler';
import { eventPublisherFromSettings } from '../../src/events/from-settings';
import { readSettings } from '../../src/settings';
import type { DpsClient } from '../../src/dps/client';
import { EVENT_TYPES, parseCloudEvent } from '../../src/events/catalog';
import { createEventGridSink } from '../../src/events/event-grid-sink';
import { BackgroundPublisher, type EventPublisher } from '../../src/events/publisher';
import {
  JumpClock,
  scan,
  startAuditEnvironment,
  type AuditTestEnvironment,
} from '../audit/support/environment';

const EXPECTED_URL = 'https://audit-app.example.net/api/allocate';
const FUNCTION_KEY = 'FunctionKeyOfTheAllocateApp0123456789==';
const LEAKED_KEY = 'LeakedKeyInAnErrorMessage42';
const API_VERSION = '2021-10-01';
const PAST_A_LEASE_MS = 10 * 60_000;

let env: AuditTestEnvironment;
let client: DpsClient;
let topic: EventGridEmulator;
const publishers: EventPublisher[] = [];
const lines: string[] = [];

function publisher(source: string, maxQueue = 10_000): BackgroundPublisher {
  const made = new BackgroundPublisher(createEventGridSink({ endpoint: topic.endpoint, key: topic.key }), {
    source,
    maxQueue,
    notices: { info: (m) => lines.push(m), warn: (m) => lines.push(m) },
    retryInitialMs: 10,
    retryMaxMs: 50,
  });
  publishers.push(made);
  return made;
}

const recorded = (source: string) => topic.events().filter((event) => event.source === source);

function scanWith(store: AuditStore, events: EventPublisher, extra: Parameters<typeof scan>[2] = {}) {
  return scan(client, store, { expectedWebhookUrl: EXPECTED_URL, pageSize: 4, events, ...extra });
}

function setRegistration(id: string, change: Record<string, unknown>) {
  const record = env.emulator.store.getRegistration(id);
  if (!record) throw new Error(`no registration ${id}`);
  Object.assign(record, change);
  env.emulator.store.saveRegistration(record);
}

function seeded(groupId: string, status: string): string[] {
  return env.emulator.store
    .snapshot()
    .registrations.filter((r) => r.enrollmentGroupKey === groupId.toLowerCase() && r.status === status)
    .map((r) => r.registrationId)
    .sort();
}

const customWebhook = { webhookUrl: `${EXPECTED_URL}?code=${FUNCTION_KEY}`, apiVersion: API_VERSION };

beforeAll(async () => {
  [env, topic] = await Promise.all([startAuditEnvironment(), startEventGridEmulator()]);
  client = env.newClient();
  env.emulator.createEnrollmentGroup({
    enrollmentGroupId: 'Fleet-A',
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'custom',
    customAllocationDefinition: customWebhook,
  });
  env.emulator.createEnrollmentGroup({
    enrollmentGroupId: 'fleet-hashed',
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'hashed',
  });
  env.emulator.seed({
    groupIds: ['Fleet-A', 'fleet-hashed'],
    perGroup: { assigned: 3, failed: 3, unassigned: 1, assigning: 0, disabled: 1 },
    seed: 5,
  });
  // A failed device whose DPS message quotes the webhook's key (DPS does that): stored and published redacted.
  const [leaky] = seeded('Fleet-A', 'failed');
  setRegistration(leaky!, {
    errorCode: 400209,
    errorMessage: `Custom allocation failed with status code: 401 (POST ${EXPECTED_URL}?code=${LEAKED_KEY})`,
  });
  env.emulator.createIndividualEnrollment({
    registrationId: 'indiv-nokey',
    attestation: { type: 'symmetricKey' },
    allocationPolicy: 'custom',
    customAllocationDefinition: { webhookUrl: EXPECTED_URL, apiVersion: API_VERSION },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(publishers.map((p) => p.close(100)));
  await env?.stop();
  await topic?.stop();
});

describe('every event type', () => {
  const SOURCE = '/dps-allocator/all-types';

  it('is published by a scan, its rescan after changes, and allocate, and parses with its schema', async () => {
    const events = publisher(SOURCE);
    const store = env.newStore();
    expect((await scanWith(store, events)).outcome).toBe('completed');

    // A recovery, an error code that changes, a failed device that becomes unassigned, a finding that clears.
    const [recovers, codeChanges, becomesUnassigned] = seeded('Fleet-A', 'failed');
    setRegistration(recovers!, {
      status: 'assigned',
      assignedHub: env.emulator.linkedHubs[0]!.hostName,
      deviceId: recovers,
      errorCode: undefined,
      errorMessage: undefined,
    });
    setRegistration(codeChanges!, { errorCode: 400207, errorMessage: 'webhook answered 500' });
    setRegistration(becomesUnassigned!, { status: 'unassigned', errorCode: 400208 });
    env.emulator.createEnrollmentGroup({
      enrollmentGroupId: 'fleet-hashed',
      attestation: { type: 'symmetricKey' },
      allocationPolicy: 'custom',
      customAllocationDefinition: customWebhook,
    });
    expect((await scanWith(store, events)).outcome).toBe('completed');

    const handler = createAllocateHandler({
      env: { DECISION_LOG_ENABLED: 'false' },
      events,
      notices: { info: () => undefined, warn: () => undefined },
    });
    const log = { log: () => undefined, warn: () => undefined };
    const device = (registrationId: string, linkedHubs: string[], currentHub?: string) =>
      JSON.stringify(
        dpsRequestBody({
          registrationId,
          group: 'toasters',
          attestation: 'symmetricKey',
          linkedHubs,
          currentHub,
        }),
      );
    const hubs = [TOASTERS_HUB, HEATPUMPS_HUB];
    expect((await handler.answer(device('kitchen-contoso-tstrsd-1', hubs), log)).status).toBe(200);
    expect((await handler.answer(device('kitchen-contoso-tstrsd-2', hubs, TOASTERS_HUB), log)).status).toBe(
      200,
    );
    const moved = await handler.answer(
      device('kitchen-contoso-tstrsd-3', hubs, 'old-hub.azure-devices.net'),
      log,
    );
    expect(moved.status).toBe(200);
    expect((await handler.answer(device('kitchen-contoso-tstrsd-4', [HEATPUMPS_HUB]), log)).status).toBe(400);
    expect((await handler.answer('{"not":"a request"}', log)).status).toBe(400);
    await events.flush(10_000);

    const received = recorded(SOURCE);
    const parsed = received.map((event) => parseCloudEvent(event));
    expect(new Set(parsed.map((event) => event.type))).toEqual(new Set(EVENT_TYPES));
    expect(new Set(parsed.map((event) => event.id)).size).toBe(parsed.length);

    const ofType = (type: string) => parsed.filter((event) => event.type === type);
    expect(
      ofType('dps-allocator.problem.opened')
        .map((e) => (e.data as { status: string }).status)
        .sort(),
    ).toEqual([
      'disabled',
      'disabled',
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'unassigned',
      'unassigned',
    ]);
    expect(ofType('dps-allocator.problem.resolved')).toEqual([
      expect.objectContaining({
        subject: recovers,
        data: expect.objectContaining({ resolution: 'assigned' }),
      }),
    ]);
    expect(ofType('dps-allocator.problem.changed').map((e) => e.data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ registrationId: codeChanges, errorCode: 400207, previousStatus: 'failed' }),
        expect.objectContaining({
          registrationId: becomesUnassigned,
          status: 'unassigned',
          previousStatus: 'failed',
        }),
      ]),
    );
    expect(
      ofType('dps-allocator.enrollment.finding-raised')
        .map((e) => `${e.subject} ${(e.data as { code: string }).code}`)
        .sort(),
    ).toEqual(['fleet-hashed allocation-not-custom', 'indiv-nokey webhook-without-key']);
    expect(ofType('dps-allocator.enrollment.finding-cleared').map((e) => e.subject)).toEqual([
      'fleet-hashed',
    ]);
    expect(
      ofType('dps-allocator.device.assigned')
        .map((e) => e.subject)
        .sort(),
    ).toEqual(['kitchen-contoso-tstrsd-1', 'kitchen-contoso-tstrsd-2']);
    expect(ofType('dps-allocator.device.moved')).toEqual([
      expect.objectContaining({
        subject: 'kitchen-contoso-tstrsd-3',
        data: expect.objectContaining({ previousHub: 'old-hub.azure-devices.net', hub: TOASTERS_HUB }),
      }),
    ]);
    const rejected = ofType('dps-allocator.allocation.rejected');
    expect(rejected.map((e) => (e.data as { outcome: string }).outcome).sort()).toEqual([
      'invalid-request',
      'rejected',
    ]);
    expect(
      rejected.find((e) => (e.data as { outcome: string }).outcome === 'invalid-request')?.subject,
    ).toBeUndefined();

    // (d) No event holds a secret: the topic key, a DPS key, a SAS token, a signature or a function key.
    const dpsKey = /SharedAccessKey=([^;]+)/.exec(env.emulator.serviceConnectionString)?.[1];
    for (const event of received) {
      const raw = JSON.stringify(event);
      expect(raw).not.toContain(topic.key);
      if (dpsKey) expect(raw).not.toContain(dpsKey);
      expect(raw).not.toMatch(/SharedAccessSignature|sig=|code=/);
      expect(raw).not.toContain(LEAKED_KEY);
      expect(raw).not.toContain(FUNCTION_KEY);
    }
    await handler.close();
  });
});

describe('a scan that crashes between its history and problem writes', () => {
  it('publishes, with its rerun, exactly the ids of a clean scan', async () => {
    const clean = publisher('/dps-allocator/clean');
    expect((await scanWith(env.newStore(), clean)).outcome).toBe('completed');
    await clean.flush(10_000);

    const replayed = publisher('/dps-allocator/replayed');
    const store = env.newStore();
    const clock = new JumpClock();
    const crash = new AbortController();
    const upsert = store.upsert.bind(store);
    let historyWrites = 0;
    store.upsert = async (table, rows) => {
      await upsert(table, rows);
      // The second page's history is written, then the run dies before its problem rows.
      if (table === 'history' && ++historyWrites === 2) crash.abort();
    };
    await expect(scanWith(store, replayed, { clock, signal: crash.signal })).rejects.toThrow(/abort/i);
    await replayed.flush(10_000);
    const beforeRerun = recorded('/dps-allocator/replayed').length;
    expect(beforeRerun).toBeGreaterThan(0); // the first page and the findings went out before the crash
    store.upsert = upsert;
    clock.jump(PAST_A_LEASE_MS);
    expect((await scanWith(store, replayed, { clock })).outcome).toBe('completed');
    await replayed.flush(10_000);

    const ids = (source: string) => new Set(recorded(source).map((event) => event.id));
    expect(ids('/dps-allocator/replayed')).toEqual(ids('/dps-allocator/clean'));
    expect(recorded('/dps-allocator/replayed').length).toBeGreaterThanOrEqual(
      ids('/dps-allocator/clean').size,
    );
  });
});

describe('a topic outage', () => {
  it('fails neither the scan nor an allocation; the queued events arrive once the topic is back', async () => {
    const SOURCE = '/dps-allocator/outage';
    const events = publisher(SOURCE);
    const handler = createAllocateHandler({
      env: { DECISION_LOG_ENABLED: 'false' },
      events,
      notices: { info: () => undefined, warn: () => undefined },
    });
    const log = { log: () => undefined, warn: () => undefined };
    const body = JSON.stringify(
      dpsRequestBody({
        registrationId: 'den-contoso-tstrsd-9',
        group: 'toasters',
        attestation: 'symmetricKey',
        linkedHubs: [TOASTERS_HUB, HEATPUMPS_HUB],
      }),
    );
    const answerWhileUp = await handler.answer(body, log);
    await events.flush(10_000);

    topic.setAvailable(false);
    try {
      expect((await scanWith(env.newStore(), events)).outcome).toBe('completed');
      expect(await handler.answer(body, log)).toEqual(answerWhileUp);
      await delay(50);
      expect(events.stats()).toMatchObject({ failing: true });
      expect(events.stats().queued).toBeGreaterThan(1);
    } finally {
      topic.setAvailable(true);
    }
    const expected = recorded(SOURCE).length + events.stats().queued;
    await events.flush(10_000);
    expect(events.stats()).toMatchObject({ queued: 0, failing: false });
    expect(recorded(SOURCE)).toHaveLength(expected);
    expect(lines.find((line) => line.includes('cannot publish'))).toMatch(/HTTP 503/);
    await handler.close();
  });

  it('drops the oldest events past a tiny queue bound and logs how many', async () => {
    const events = publisher('/dps-allocator/tiny-queue', 3);
    topic.setAvailable(false);
    try {
      expect((await scanWith(env.newStore(), events)).outcome).toBe('completed');
      await delay(30);
    } finally {
      topic.setAvailable(true);
    }
    const dropped = events.stats().dropped;
    expect(dropped).toBeGreaterThan(0);
    await events.flush(10_000);
    expect(recorded('/dps-allocator/tiny-queue')).toHaveLength(3);
    expect(lines.some((line) => line.includes(`${dropped} event(s) were dropped`))).toBe(true);
  });
});

describe('runAuditScan', () => {
  it('publishes to the topic of the app settings, and a run completes while the topic is down', async () => {
    const appSettings = {
      DPS_CONNECTION_STRING: env.emulator.readOnlyConnectionString,
      DPS_CA_CERTIFICATE_PATH: env.emulator.caCertificatePath,
      AUDIT_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
      AUDIT_EXPECTED_WEBHOOK_URL: EXPECTED_URL,
      EVENTS_TOPIC_ENDPOINT: topic.endpoint,
      EVENTS_TOPIC_KEY: topic.key,
      EVENTS_SOURCE: '/dps-allocator/from-settings',
    };
    const first = await runAuditScan({ env: { ...appSettings, AUDIT_TABLE_PREFIX: 'EventsA' } });
    expect(first.outcome).toBe('completed');
    const published = recorded('/dps-allocator/from-settings');
    expect(published.map((event) => parseCloudEvent(event).type)).toContain('dps-allocator.problem.opened');

    topic.setAvailable(false);
    const runLog: string[] = [];
    let second;
    try {
      second = await runAuditScan({
        env: { ...appSettings, AUDIT_TABLE_PREFIX: 'EventsB' },
        log: (level, message) => runLog.push(`${level} ${message}`),
      });
    } finally {
      topic.setAvailable(true);
    }
    expect(second.outcome).toBe('completed');
    expect(runLog.filter((line) => line.startsWith('warn Events: cannot publish'))).toHaveLength(1);
    // The events of the second run wait in the process's publisher and go once the topic is back.
    const shared = eventPublisherFromSettings(
      readSettings(appSettings),
      {},
      { info: () => undefined, warn: () => undefined },
    );
    await shared.flush(10_000);
    expect(recorded('/dps-allocator/from-settings')).toHaveLength(2 * published.length);
    await shared.close(100);
  });
});
