// One MQTT connection, several requests: the device authenticates at CONNECT, and what it may do afterwards is what
// a new connection could do at that moment. Registration goes on working on the open connection; an enrollment that
// is deleted, re-keyed or overtaken by an individual enrollment refuses the next request with a 401 on the response
// topic; a disabled one ends the registration `disabled`; a SAS token that expires refuses what follows. Both for a
// symmetric-key device (SAS token as password) and an X.509 device (TLS client certificate, no password). Below,
// the identity the device API keeps for a connection, unit by unit: when it is handed back, and when not.
import { X509Certificate } from 'node:crypto';
import { buildDeviceSasToken, deriveDeviceKey } from '../../../src/dps/sas';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import {
  deviceCertificateAccepted,
  deviceTokenAccepted,
  type DeviceApiDeps,
} from '../../../dev/dps-emulator/device-api';
import { prepareEnrollmentGroup, prepareIndividualEnrollment } from '../../../dev/dps-emulator/enrollments';
import { OperationTracker } from '../../../dev/dps-emulator/operations';
import { EmulatorStore } from '../../../dev/dps-emulator/store';
import { createRootAuthority, type CertificateAuthority } from '../../../dev/test-ca/authority';
import {
  emulatorDispatcher,
  HUB_B,
  ownerAuthorization,
  rawCall,
  startTestEmulator,
  testKey,
} from './support/emulator';
import { connectRawMqttDevice, type RawMqttCredentials, type RawMqttDevice } from './support/raw-mqtt';

let emulator: DpsEmulator;
let root: CertificateAuthority;

beforeAll(async () => {
  emulator = await startTestEmulator();
  root = await createRootAuthority({ subject: 'CN=Connection Test Root, O=Contoso' });
});

afterAll(async () => {
  await emulator.stop();
});

function symmetricKeyGroup(enrollmentGroupId: string, primaryKey: string, enabled = true): void {
  emulator.createEnrollmentGroup({
    enrollmentGroupId,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey, secondaryKey: testKey('other') } },
    allocationPolicy: 'static',
    iotHubs: [HUB_B],
    provisioningStatus: enabled ? 'enabled' : 'disabled',
  });
}

/** A group whose signing certificate is `signer`'s (each test its own, so that only its group attests its device). */
function x509Group(enrollmentGroupId: string, signer: CertificateAuthority, enabled = true): void {
  emulator.createEnrollmentGroup({
    enrollmentGroupId,
    attestation: {
      type: 'x509',
      x509: { signingCertificates: { primary: { certificate: signer.certPem } } },
    },
    allocationPolicy: 'static',
    iotHubs: [HUB_B],
    provisioningStatus: enabled ? 'enabled' : 'disabled',
  });
}

async function deleteGroup(enrollmentGroupId: string): Promise<void> {
  const answer = await rawCall(
    emulator,
    emulatorDispatcher(emulator),
    'DELETE',
    `/enrollmentGroups/${enrollmentGroupId}?api-version=2021-10-01`,
    { headers: { authorization: ownerAuthorization(emulator) } },
  );
  expect(answer.status).toBe(204);
}

let requestId = 0;

/** Register, then one poll once the (instant) registration is done: the final status on this connection. */
async function registerOnce(device: RawMqttDevice): Promise<{ topic: string; status?: unknown }> {
  const accepted = await device.register(String(++requestId));
  if (!accepted.topic.startsWith('$dps/registrations/res/202/')) return { topic: accepted.topic };
  await emulator.settled();
  const done = await device.poll(String(++requestId), String(accepted.json.operationId));
  return { topic: done.topic, status: done.json.status };
}

const assigned = { topic: expect.stringMatching(/^\$dps\/registrations\/res\/200\//), status: 'assigned' };
const refused = { topic: expect.stringMatching(/^\$dps\/registrations\/res\/401\//) };

async function connected(
  registrationId: string,
  credentials: RawMqttCredentials,
  tokenExpiry?: number,
): Promise<RawMqttDevice> {
  return connectRawMqttDevice(emulator, registrationId, credentials, tokenExpiry);
}

describe('a symmetric-key device on one MQTT connection', () => {
  it('registers again and again, and is refused once its group is deleted', async () => {
    const key = testKey('connection-deleted');
    symmetricKeyGroup('connection-deleted', key);
    const device = await connected('connection-sas-1', deriveDeviceKey(key, 'connection-sas-1'));
    try {
      expect(await registerOnce(device)).toEqual(assigned);
      expect(await registerOnce(device)).toEqual(assigned);
      await deleteGroup('connection-deleted');
      expect(await registerOnce(device)).toEqual(refused);
      // The same group created again with the same key: the token authenticates the device again.
      symmetricKeyGroup('connection-deleted', key);
      expect(await registerOnce(device)).toEqual(assigned);
    } finally {
      device.close();
    }
  });

  it('ends a registration disabled once its group is disabled, as on a new connection', async () => {
    const key = testKey('connection-disabled');
    symmetricKeyGroup('connection-disabled', key);
    const device = await connected('connection-sas-2', deriveDeviceKey(key, 'connection-sas-2'));
    try {
      expect(await registerOnce(device)).toEqual(assigned);
      symmetricKeyGroup('connection-disabled', key, false);
      expect(await registerOnce(device)).toEqual({ ...assigned, status: 'disabled' });
    } finally {
      device.close();
    }
  });

  it('is refused once the group key changes, or an individual enrollment takes precedence', async () => {
    const key = testKey('connection-rekeyed');
    symmetricKeyGroup('connection-rekeyed', key);
    const rekeyed = await connected('connection-sas-3', deriveDeviceKey(key, 'connection-sas-3'));
    const overtaken = await connected('connection-sas-4', deriveDeviceKey(key, 'connection-sas-4'));
    try {
      expect(await registerOnce(rekeyed)).toEqual(assigned);
      expect(await registerOnce(overtaken)).toEqual(assigned);
      emulator.createIndividualEnrollment({
        registrationId: 'connection-sas-4',
        attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: testKey('individual') } },
      });
      expect(await registerOnce(overtaken)).toEqual(refused);
      expect(await registerOnce(rekeyed)).toEqual(assigned);
      symmetricKeyGroup('connection-rekeyed', testKey('connection-new-key'));
      expect(await registerOnce(rekeyed)).toEqual(refused);
    } finally {
      rekeyed.close();
      overtaken.close();
    }
  });

  it('is refused once its SAS token has expired, though CONNECT took it', async () => {
    const key = testKey('connection-expiry');
    symmetricKeyGroup('connection-expiry', key);
    const expiry = Math.floor(Date.now() / 1000) + 2;
    const device = await connected('connection-sas-5', deriveDeviceKey(key, 'connection-sas-5'), expiry);
    try {
      expect(await registerOnce(device)).toEqual(assigned);
      await new Promise((resolve) => setTimeout(resolve, expiry * 1000 - Date.now() + 100));
      expect(await registerOnce(device)).toEqual(refused);
    } finally {
      device.close();
    }
  });
});

describe('an X.509 device on one MQTT connection', () => {
  it('registers again and again, and is refused once its group is deleted', async () => {
    const signer = await root.issueIntermediate({ subject: 'CN=Connection Line 1, O=Contoso' });
    x509Group('connection-x509', signer);
    const leaf = await signer.issueLeaf({ subject: 'CN=connection-x509-1' });
    const device = await connected('connection-x509-1', { cert: leaf.certPem, key: leaf.keyPem });
    try {
      expect(await registerOnce(device)).toEqual(assigned);
      expect(await registerOnce(device)).toEqual(assigned);
      await deleteGroup('connection-x509');
      expect(await registerOnce(device)).toEqual(refused);
      x509Group('connection-x509', signer);
      expect(await registerOnce(device)).toEqual(assigned);
    } finally {
      device.close();
    }
  });

  it('ends a registration disabled once its group is disabled', async () => {
    const signer = await root.issueIntermediate({ subject: 'CN=Connection Line 2, O=Contoso' });
    x509Group('connection-x509-disabled', signer);
    const leaf = await signer.issueLeaf({ subject: 'CN=connection-x509-2' });
    const device = await connected('connection-x509-2', { cert: leaf.certPem, key: leaf.keyPem });
    try {
      expect(await registerOnce(device)).toEqual(assigned);
      x509Group('connection-x509-disabled', signer, false);
      expect(await registerOnce(device)).toEqual({ ...assigned, status: 'disabled' });
    } finally {
      device.close();
    }
  });
});

describe('the identity the device API keeps for a connection', () => {
  const ID_SCOPE = '0ne0000c0nn';
  const HUBS = [{ hostName: HUB_B }];

  function setUp() {
    const store = new EmulatorStore();
    const clock = { seconds: Math.floor(Date.now() / 1000) };
    const verified = new Map<string, X509Certificate>();
    const deps: DeviceApiDeps = {
      store,
      idScope: ID_SCOPE,
      retryAfterSeconds: () => 0,
      operations: new OperationTracker(10),
      nowSeconds: () => clock.seconds,
      runRegistration: () => Promise.resolve(),
      verifiedCertificate: (name) => verified.get(name),
    };
    const putGroup = (group: Record<string, unknown>) =>
      store.putGroup(prepareEnrollmentGroup({ allocationPolicy: 'hashed', ...group }, undefined, HUBS));
    /** The device registered through `groupId` before: that group is tried first. */
    const knownGroup = (registrationId: string, groupId: string) =>
      store.saveRegistration(store.newRegistration(registrationId, groupId.toLowerCase()));
    return { store, clock, verified, deps, putGroup, knownGroup };
  }

  it('gives a SAS device its identity back until the token expires or an enrollment changes', () => {
    const { store, clock, deps, putGroup, knownGroup } = setUp();
    const key = testKey('unit-sas');
    const group = {
      enrollmentGroupId: 'unit-sas',
      attestation: {
        type: 'symmetricKey',
        symmetricKey: { primaryKey: key, secondaryKey: testKey('unit-sas-secondary') },
      },
    };
    putGroup(group);
    const id = 'unit-sas-1';
    const token = (signingKey: string) => buildDeviceSasToken(ID_SCOPE, id, signingKey, clock.seconds + 60);
    expect(deviceTokenAccepted(token(testKey('wrong')), ID_SCOPE, id, deps)).toBeUndefined();
    const connection = deviceTokenAccepted(token(deriveDeviceKey(key, id)), ID_SCOPE, id, deps)!;
    // Not registered yet: no group is the device's own, so every group would be tried again.
    expect(connection.current(ID_SCOPE, id)).toBeUndefined();
    knownGroup(id, 'unit-sas');
    const identity = connection.current(ID_SCOPE, id);
    expect(identity).toMatchObject({ enrollment: { kind: 'group' }, attestation: { type: 'symmetricKey' } });
    expect(connection.current(ID_SCOPE.toUpperCase(), id)).toBe(identity);
    expect(connection.current(ID_SCOPE, 'unit-sas-2')).toBeUndefined();
    expect(connection.current('0ne0000other', id)).toBeUndefined();
    clock.seconds += 60; // the token's expiry
    expect(connection.current(ID_SCOPE, id)).toBeUndefined();
    clock.seconds -= 60;
    expect(connection.current(ID_SCOPE, id)).toBe(identity);
    putGroup(group); // any write, even of the same content
    expect(connection.current(ID_SCOPE, id)).toBeUndefined();

    const again = deviceTokenAccepted(token(deriveDeviceKey(key, id)), ID_SCOPE, id, deps)!;
    expect(again.current(ID_SCOPE, id)).toBeDefined();
    store.putIndividual(
      prepareIndividualEnrollment(
        { registrationId: id, attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key } } },
        undefined,
        HUBS,
      ),
    );
    expect(again.current(ID_SCOPE, id)).toBeUndefined(); // an individual enrollment takes precedence
  });

  it('gives an X.509 device its identity back while its certificates stay valid and its anchors the same', async () => {
    const { clock, verified, deps, putGroup, knownGroup } = setUp();
    const signer = await root.issueIntermediate({ subject: 'CN=Unit Line, O=Contoso' });
    const leaf = await signer.issueLeaf({ subject: 'CN=unit-x509-1', validDays: 2 });
    verified.set('unit-root', new X509Certificate(root.certPem));
    putGroup({
      enrollmentGroupId: 'unit-x509',
      attestation: { type: 'x509', x509: { caReferences: { primary: 'unit-root' } } },
    });
    knownGroup('unit-x509-1', 'unit-x509');
    const chain = [new X509Certificate(leaf.certPem), new X509Certificate(signer.certPem)];
    expect(deviceCertificateAccepted(chain.slice(0, 1), ID_SCOPE, 'unit-x509-1', deps)).toBeUndefined();
    const connection = deviceCertificateAccepted(chain, ID_SCOPE, 'unit-x509-1', deps)!;
    const identity = connection.current(ID_SCOPE, 'unit-x509-1');
    expect(identity).toMatchObject({ enrollment: { kind: 'group' }, attestation: { type: 'x509' } });
    const now = clock.seconds;
    clock.seconds = Date.parse(chain[0]!.validTo) / 1000 + 1; // the device certificate has expired
    expect(connection.current(ID_SCOPE, 'unit-x509-1')).toBeUndefined();
    clock.seconds = now - 3600; // before the connection attested: time went back
    expect(connection.current(ID_SCOPE, 'unit-x509-1')).toBeUndefined();
    clock.seconds = now;
    expect(connection.current(ID_SCOPE, 'unit-x509-1')).toBe(identity);
    verified.set('unit-root', new X509Certificate(root.certPem)); // the verified CA replaced
    expect(connection.current(ID_SCOPE, 'unit-x509-1')).toBeUndefined();
  });
});
