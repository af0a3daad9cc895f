// The device API over MQTT (TLS): the official device SDK's MQTT transport, unchanged but for the CA and
// `localhost:PORT`, registers symmetric-key devices as over HTTPS; raw MQTT clients (mqtt-packet over TLS) show what
// the SDK cannot send: a token without `skn`, wrong credentials, topics outside the contract, malformed packets.
import { once } from 'node:events';
import tls from 'node:tls';
import * as mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import type { RegistrationResult } from 'azure-iot-provisioning-device';
import { buildSasToken, deriveDeviceKey } from '../../../src/dps/sas';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { ConnackCode, RESPONSE_TOPIC_FILTER } from '../../../dev/dps-emulator/mqtt-endpoint';
import {
  createSdkMqttDeviceClient,
  createSdkMqttWsDeviceClient,
} from '../../../dev/dps-emulator/sdk-clients';
import { HUB_B, HUB_C, startTestEmulator, startWebhook, testKey, type TestWebhook } from './support/emulator';

let emulator: DpsEmulator;
let webhook: TestWebhook;
const logLines: string[] = [];
const groupKey = testKey('mqtt-group');
const individualKey = testKey('mqtt-individual');
const customKey = testKey('mqtt-custom');

beforeAll(async () => {
  emulator = await startTestEmulator({ log: (line) => logLines.push(line) });
  webhook = await startWebhook();
  webhook.reply = (body) => ({
    status: 200,
    body: {
      iotHubHostName: HUB_C,
      initialTwin: {
        tags: { via: (body.deviceRuntimeContext as { registrationId: string }).registrationId },
      },
    },
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'mqtt-custom-group',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: customKey } },
    allocationPolicy: 'custom',
    customAllocationDefinition: { webhookUrl: webhook.url, apiVersion: '2021-10-01' },
  });
  emulator.createEnrollmentGroup({
    enrollmentGroupId: 'mqtt-group',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: groupKey } },
    allocationPolicy: 'static',
    iotHubs: [HUB_B],
  });
  emulator.createIndividualEnrollment({
    registrationId: 'mqtt-individual-1',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: individualKey } },
    allocationPolicy: 'hashed',
  });
});

afterAll(async () => {
  await emulator.stop();
  await webhook.close();
});

function registerOverMqtt(
  registrationId: string,
  deviceKey: string,
  overWebSocket = false,
): Promise<RegistrationResult> {
  const client = (overWebSocket ? createSdkMqttWsDeviceClient : createSdkMqttDeviceClient)(
    emulator,
    registrationId,
    deviceKey,
  );
  return new Promise((resolve, reject) => {
    client.register((error, result) => (error ? reject(error) : resolve(result!)));
  });
}

/** A raw MQTT 3.1.1 connection over TLS that collects the packets the emulator sends. */
async function rawConnection() {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: emulator.mqttPort,
    ca: emulator.caCertificatePem,
    servername: 'localhost',
  });
  await once(socket, 'secureConnect');
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  const waiters: (() => void)[] = [];
  parser.on('packet', (packet: Packet) => {
    packets.push(packet);
    waiters.splice(0).forEach((wake) => wake());
  });
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  // The emulator may close a connection mid-write (an oversized packet): a reset, then 'close'.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    send: (packet: Packet) => socket.write(mqttPacket.generate(packet)),
    raw: (bytes: Buffer) => socket.write(bytes),
    closed,
    /** The next packet of `cmd`, waiting for it (the test's own timeout bounds the wait). */
    async next<C extends Packet['cmd']>(cmd: C): Promise<Extract<Packet, { cmd: C }>> {
      for (;;) {
        const index = packets.findIndex((packet) => packet.cmd === cmd);
        if (index >= 0) return packets.splice(index, 1)[0] as Extract<Packet, { cmd: C }>;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    end: () => socket.destroy(),
  };
}

/** A raw connection of a group device of this suite, past an accepted CONNECT (its token has no `skn`). */
async function connectedAsGroupDevice(registrationId: string) {
  const connection = await rawConnection();
  connection.send(
    connectPacket(
      registrationId,
      tokenWithoutKeyName(registrationId, deriveDeviceKey(groupKey, registrationId)),
    ),
  );
  expect(await connection.next('connack')).toMatchObject({ returnCode: ConnackCode.accepted });
  return connection;
}

function connectPacket(
  registrationId: string,
  password: string | undefined,
  idScope = emulator.idScope,
): Packet {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId: registrationId,
    username: `${idScope}/registrations/${registrationId}/api-version=2019-03-31&ClientVersion=raw-test`,
    ...(password === undefined ? {} : { password: Buffer.from(password) }),
  };
}

/** A device token as the Python SDK and Embedded C send it: no `skn`. */
function tokenWithoutKeyName(registrationId: string, deviceKey: string): string {
  return buildSasToken({
    resource: `${emulator.idScope}/registrations/${registrationId}`,
    keyBase64: deviceKey,
    expiry: Math.floor(Date.now() / 1000) + 3600,
  });
}

describe('device registration over MQTT with the official SDK', () => {
  it('assigns a symmetric-key group device through the same allocation as HTTPS', async () => {
    const registrationId = 'mqtt-device-1';
    const result = await registerOverMqtt(registrationId, deriveDeviceKey(groupKey, registrationId));
    expect(result).toMatchObject({ registrationId, status: 'assigned', assignedHub: HUB_B });
    expect(emulator.getRegistration(registrationId)).toMatchObject({
      status: 'assigned',
      enrollmentGroupId: 'mqtt-group',
    });
  });

  it('assigns a device over MQTT over WebSocket (the MqttWs transport)', async () => {
    const registrationId = 'mqtt-ws-device-1';
    const result = await registerOverMqtt(registrationId, deriveDeviceKey(groupKey, registrationId), true);
    expect(result).toMatchObject({ registrationId, status: 'assigned', assignedHub: HUB_B });
  });

  it('allocates through the custom webhook as over HTTPS, with the same request body', async () => {
    const registrationId = 'mqtt-custom-device';
    const result = await registerOverMqtt(registrationId, deriveDeviceKey(customKey, registrationId));
    expect(result).toMatchObject({ registrationId, status: 'assigned', assignedHub: HUB_C });
    expect(webhook.calls.at(-1)?.body).toMatchObject({
      enrollmentGroup: { enrollmentGroupId: 'mqtt-custom-group' },
      deviceRuntimeContext: { registrationId, symmetricKey: {} },
    });
    expect(emulator.getRegistration(registrationId)?.initialTwin).toMatchObject({
      tags: { via: registrationId },
    });
  });

  it('assigns an individual enrollment', async () => {
    const result = await registerOverMqtt('mqtt-individual-1', individualKey);
    expect(result).toMatchObject({ registrationId: 'mqtt-individual-1', status: 'assigned' });
  });

  it('refuses a device whose key is wrong at CONNECT, and says why in the log', async () => {
    await expect(registerOverMqtt('mqtt-device-2', testKey('wrong'))).rejects.toThrow();
    expect(logLines).toContainEqual(
      expect.stringMatching(/CONNACK 5: the SAS token does not authenticate mqtt-device-2/),
    );
    expect(emulator.getRegistration('mqtt-device-2')).toBeUndefined();
  });
});

describe('the MQTT contract, raw', () => {
  it('takes a device token without skn, and answers register and polls on the response topic', async () => {
    const registrationId = 'mqtt-raw-no-skn';
    const connection = await connectedAsGroupDevice(registrationId);
    try {
      connection.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [{ topic: RESPONSE_TOPIC_FILTER, qos: 1 }],
      });
      expect(await connection.next('suback')).toMatchObject({ messageId: 1, granted: [1] });
      connection.send({
        cmd: 'publish',
        topic: '$dps/registrations/PUT/iotdps-register/?$rid=7',
        payload: JSON.stringify({ registrationId }),
        qos: 1,
        messageId: 2,
        dup: false,
        retain: false,
      });
      expect(await connection.next('puback')).toMatchObject({ messageId: 2 });
      const accepted = await connection.next('publish');
      expect(accepted.qos).toBe(1); // at the granted QoS, as DPS answers
      expect(accepted.topic).toMatch(/^\$dps\/registrations\/res\/202\/\?\$rid=7&retry-after=\d+$/);
      const { operationId } = JSON.parse(accepted.payload.toString()) as { operationId: string };
      await emulator.settled();
      connection.send({
        cmd: 'publish',
        topic: `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=8&operationId=${operationId}`,
        payload: '',
        qos: 0,
        dup: false,
        retain: false,
      });
      const done = await connection.next('publish');
      expect(done.topic).toBe('$dps/registrations/res/200/?$rid=8');
      expect(JSON.parse(done.payload.toString())).toMatchObject({
        operationId,
        status: 'assigned',
        registrationState: { registrationId, assignedHub: HUB_B },
      });
    } finally {
      connection.end();
    }
  });

  it("answers a register body past DPS's 96 KB message limit with a 413 on the response topic", async () => {
    const registrationId = 'mqtt-raw-large';
    const connection = await connectedAsGroupDevice(registrationId);
    try {
      const body = JSON.stringify({ registrationId, payload: { blob: 'x'.repeat(96 * 1024) } });
      connection.send({
        cmd: 'publish',
        topic: '$dps/registrations/PUT/iotdps-register/?$rid=9',
        payload: body,
        qos: 0,
        dup: false,
        retain: false,
      });
      const answer = await connection.next('publish');
      expect(answer.topic).toBe('$dps/registrations/res/413/?$rid=9');
      expect(JSON.parse(answer.payload.toString())).toMatchObject({
        errorCode: 413000,
        message: expect.stringMatching(/98304 bytes/),
      });
      expect(emulator.getRegistration(registrationId)).toBeUndefined();
    } finally {
      connection.end();
    }
  });

  it.each([
    ['no password', () => connectPacket('mqtt-raw-1', undefined), ConnackCode.notAuthorized],
    [
      'a client id that is not the registration id',
      () => ({ ...connectPacket('mqtt-raw-1', 'x'), clientId: 'other' }),
      ConnackCode.identifierRejected,
    ],
    [
      'a username outside the contract',
      () => ({ ...connectPacket('mqtt-raw-1', 'x'), username: 'device-1' }),
      ConnackCode.badUserNameOrPassword,
    ],
    ['another id scope', () => connectPacket('mqtt-raw-2', 'x', '0ne00000000'), ConnackCode.notAuthorized],
    [
      'MQTT 5',
      () => ({ ...connectPacket('mqtt-raw-1', 'x'), protocolVersion: 5 as const }),
      ConnackCode.unacceptableProtocolVersion,
    ],
  ])('refuses %s with its CONNACK code and closes', async (_what, packet, code) => {
    const connection = await rawConnection();
    connection.send(packet());
    expect(await connection.next('connack')).toMatchObject({ returnCode: code });
    await connection.closed;
  });

  it('closes a connection that publishes outside the DPS topics, or sends a malformed or oversized packet, and goes on', async () => {
    const registrationId = 'mqtt-raw-refused';
    const token = tokenWithoutKeyName(registrationId, deriveDeviceKey(groupKey, registrationId));

    const wrongTopic = await rawConnection();
    wrongTopic.send(connectPacket(registrationId, token));
    await wrongTopic.next('connack');
    wrongTopic.send({
      cmd: 'publish',
      topic: 'devices/x/messages/events/',
      payload: '{}',
      qos: 0,
      dup: false,
      retain: false,
    });
    await wrongTopic.closed;

    const malformed = await rawConnection();
    malformed.raw(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await malformed.closed;

    const beforeConnect = await rawConnection();
    beforeConnect.send({ cmd: 'pingreq' });
    await beforeConnect.closed;

    const oversized = await rawConnection();
    oversized.send(connectPacket(registrationId, token));
    await oversized.next('connack');
    oversized.send({
      cmd: 'publish',
      topic: '$dps/registrations/PUT/iotdps-register/?$rid=1',
      payload: Buffer.alloc(200 * 1024, 0x20),
      qos: 0,
      dup: false,
      retain: false,
    });
    await oversized.closed;

    expect(logLines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/outside the DPS topics .*; connection closed/),
        expect.stringMatching(/malformed MQTT packet .*; connection closed/),
        expect.stringMatching(/pingreq before CONNECT; connection closed/),
        expect.stringMatching(/a packet larger than \d+ bytes; connection closed/),
      ]),
    );
    // The server goes on: the SDK still registers.
    const next = 'mqtt-after-refusals';
    await expect(registerOverMqtt(next, deriveDeviceKey(groupKey, next))).resolves.toMatchObject({
      status: 'assigned',
    });
  });
});
