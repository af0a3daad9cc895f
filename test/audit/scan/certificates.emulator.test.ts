// The audit and X.509 certificates, against the DPS emulator and Azurite: enrollment findings for expired, not yet
// valid and expiring certificates; an individual enrollment whose certificate DPS refuses is a device problem,
// though the refused device leaves no registration state; a device refused inside a group leaves nothing the
// audit can list; a rescan writes nothing; renewal and assignment resolve the problems. In order.
import type { DpsClient } from '../../../src/dps/client';
import { history } from '../../../src/audit/read/queries';
import { INDIVIDUAL_PARTITION } from '../../../src/audit/rows/keys';
import type { ScanRunRow } from '../../../src/audit/rows/tables';
import type { AuditStore } from '../../../src/audit/store';
import {
  DEVICES,
  enrollDevice,
  EXPECTED_URL,
  EXPIRED_AT,
  GROUPS,
  registerDevice,
  seedCertificateFleet,
  utc,
  type CertificateFleet,
} from '../support/certificate-fleet';
import {
  entitiesOf,
  scan,
  startAuditEnvironment,
  type AuditTestEnvironment,
  type Entity,
} from '../support/environment';
import { createSelfSignedDeviceCertificate } from '../../../dev/test-ca/authority';

let env: AuditTestEnvironment;
let client: DpsClient;
let store: AuditStore;
let fleet: CertificateFleet;

const scanOnce = () => scan(client, store, { expectedWebhookUrl: EXPECTED_URL, pageSize: 3 });
const byKey = (entities: Entity[]) => new Map(entities.map((e) => [`${e.partitionKey}/${e.rowKey}`, e]));
const codesOf = (row: Entity | undefined) =>
  (JSON.parse(String(row?.findings ?? '[]')) as Array<{ code: string; message: string }>).map((f) => f.code);
const messagesOf = (row: Entity | undefined) =>
  (JSON.parse(String(row?.findings ?? '[]')) as Array<{ message: string }>).map((f) => f.message);

beforeAll(async () => {
  env = await startAuditEnvironment();
  client = env.newClient();
  store = env.newStore();
  fleet = await seedCertificateFleet(env.emulator);
});

afterAll(async () => {
  await env?.stop();
});

describe('devices DPS refuses at attestation', () => {
  it('leave no registration state, in an individual enrollment or a group', async () => {
    await expect(registerDevice(env.emulator, DEVICES.expired, fleet.expiredDevice)).rejects.toThrow(
      /401|Unauthorized/i,
    );
    const underExpiredRoot = await fleet.expiredRoot.issueLeaf({ subject: 'CN=fleet-device-1' });
    await expect(registerDevice(env.emulator, 'fleet-device-1', underExpiredRoot)).rejects.toThrow(
      /401|Unauthorized/i,
    );
    expect(env.emulator.getRegistration(DEVICES.expired)).toBeUndefined();
    expect(env.emulator.getRegistration('fleet-device-1')).toBeUndefined();
  });
});

describe('a scan of X.509 enrollments', () => {
  let run: ScanRunRow;

  beforeAll(async () => {
    run = await scanOnce();
  });

  it('records each individual device whose certificates DPS refuses, and no other', async () => {
    expect(run).toMatchObject({
      outcome: 'completed',
      enrollmentGroupsRead: 4,
      individualEnrollmentsRead: 5,
      // Only the assigned device has a registration state.
      registrationsRead: 1,
      problemsFound: 2,
    });
    const problems = await entitiesOf(store, 'problems');
    expect(problems.map((row) => `${row.partitionKey}/${String(row.registrationId)}`).sort()).toEqual([
      `${INDIVIDUAL_PARTITION}/${DEVICES.notYetValid}`,
      `${INDIVIDUAL_PARTITION}/${DEVICES.expired}`,
    ]);
    const rows = byKey(problems);
    expect(rows.get(`${INDIVIDUAL_PARTITION}/${DEVICES.expired}`)).toMatchObject({
      registrationId: DEVICES.expired,
      enrollmentKind: 'individual',
      status: 'failed',
      errorCode: 401002,
      source: 'enrollment-certificate',
      errorExplanation:
        `DPS refuses this device: its certificate expired at ${EXPIRED_AT} ` +
        `(enrollment certificate CN=${DEVICES.expired}).`,
      open: true,
    });
    expect(rows.get(`${INDIVIDUAL_PARTITION}/${DEVICES.notYetValid}`)).toMatchObject({
      errorCode: 401002,
      errorExplanation:
        `DPS refuses this device: its certificate is not valid before ${utc(fleet.validFrom)} ` +
        `(enrollment certificate CN=${DEVICES.notYetValid}).`,
    });
  });

  it('writes the first sighting of a refused device to its history', async () => {
    await expect(history(store, DEVICES.expired)).resolves.toEqual([
      expect.objectContaining({ fromStatus: 'none', toStatus: 'failed', errorCode: 401002 }),
    ]);
  });

  it('records the certificate findings of every group and of the individual enrollments that have some', async () => {
    const findings = byKey(await entitiesOf(store, 'findings'));
    expect([...findings.keys()].sort()).toEqual(
      [
        ...Object.values(GROUPS).map((id) => `group/${id}`),
        `individual/${DEVICES.expired}`,
        `individual/${DEVICES.expiredAssigned}`,
        `individual/${DEVICES.notYetValid}`,
        `individual/${DEVICES.rollover}`,
      ].sort(),
    );
    expect(messagesOf(findings.get(`group/${GROUPS.expired}`))).toEqual([
      `The primary signing certificate (CN=Expired Root, O=Contoso) expired at ${EXPIRED_AT}: ` +
        'DPS refuses every device that chains to it.',
    ]);
    expect(messagesOf(findings.get(`group/${GROUPS.rollover}`))).toEqual([
      `The primary signing certificate (CN=Old Root, O=Contoso) expired at ${EXPIRED_AT}; ` +
        'the secondary is still valid: replace or remove the primary.',
    ]);
    expect(messagesOf(findings.get(`group/${GROUPS.expiring}`))).toEqual([
      `The primary signing certificate (CN=Expiring Root, O=Contoso) expires at ${utc(fleet.expiringAt)}: ` +
        'renew it before then.',
    ]);
    expect(codesOf(findings.get(`group/${GROUPS.valid}`))).toEqual([]);
    expect(codesOf(findings.get(`individual/${DEVICES.expired}`))).toEqual(['certificate-expired']);
    expect(messagesOf(findings.get(`individual/${DEVICES.expiredAssigned}`))).toEqual([
      `The primary certificate (CN=${DEVICES.expiredAssigned}) expired at ${EXPIRED_AT}: ` +
        'DPS refuses the device (401).',
    ]);
    expect(codesOf(findings.get(`individual/${DEVICES.notYetValid}`))).toEqual(['certificate-not-yet-valid']);
    expect(codesOf(findings.get(`individual/${DEVICES.rollover}`))).toEqual(['certificate-expired']);
  });

  it('lists nothing of a group whose devices DPS refuses: they leave no registration state', async () => {
    const problems = await entitiesOf(store, 'problems');
    expect(problems.filter((row) => row.partitionKey === GROUPS.expired)).toEqual([]);
  });

  it('writes nothing on a rescan with no change', async () => {
    const rescan = await scanOnce();
    expect(rescan).toMatchObject({
      outcome: 'completed',
      entitiesWritten: 0,
      problemsSeen: 2,
      problemsFound: 0,
    });
  });
});

describe('when the certificates change', () => {
  let run: ScanRunRow;

  beforeAll(async () => {
    // The refused device gets a new certificate; the one not valid yet registers after all (a clock moved on).
    enrollDevice(
      env.emulator,
      DEVICES.expired,
      await createSelfSignedDeviceCertificate({ subject: `CN=${DEVICES.expired}` }),
    );
    const early = env.emulator.store.newRegistration(DEVICES.notYetValid, undefined);
    early.status = 'assigned';
    early.assignedHub = env.emulator.linkedHubs[0]!.hostName;
    early.deviceId = DEVICES.notYetValid;
    env.emulator.store.saveRegistration(early);
    run = await scanOnce();
  });

  it('resolves the renewed device as certificate-valid and the assigned one as assigned, with history', async () => {
    expect(run).toMatchObject({ outcome: 'completed', problemsResolved: 2, problemsFound: 0 });
    const rows = byKey(await entitiesOf(store, 'problems'));
    expect(rows.get(`${INDIVIDUAL_PARTITION}/${DEVICES.expired}`)).toMatchObject({
      open: false,
      resolution: 'certificate-valid',
      errorCode: 401002,
    });
    expect(rows.get(`${INDIVIDUAL_PARTITION}/${DEVICES.notYetValid}`)).toMatchObject({
      open: false,
      resolution: 'assigned',
    });
    await expect(history(store, DEVICES.expired)).resolves.toEqual([
      expect.objectContaining({ fromStatus: 'none', toStatus: 'failed' }),
      expect.objectContaining({ fromStatus: 'failed', toStatus: 'certificate-valid' }),
    ]);
  });

  it("drops the renewed device's findings row", async () => {
    const findings = byKey(await entitiesOf(store, 'findings'));
    expect(findings.has(`individual/${DEVICES.expired}`)).toBe(false);
    expect(findings.has(`individual/${DEVICES.notYetValid}`)).toBe(true);
  });
});
