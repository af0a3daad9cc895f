// A raw MQTT 3.1.1 device over TLS (mqtt-packet framing) for tests that look at the answer topics themselves:
// connected and subscribed to the response topic, it publishes requests and hands back the answers in order. It
// authenticates with a SAS token as password, or with its TLS client certificate and no password (X.509).
import { once } from 'node:events';
import tls from 'node:tls';
import * as mqttPacket from 'mqtt-packet';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { buildDeviceSasToken } from '../../../../src/dps/sas';
import type { DpsEmulator } from '../../../../dev/dps-emulator';
import { RESPONSE_TOPIC_FILTER } from '../../../../dev/dps-emulator/mqtt-endpoint';

export interface RawMqttAnswer {
  topic: string;
  json: Record<string, unknown>;
}

export interface RawMqttDevice {
  /** Publishes the register request with `$rid` = `requestId`. */
  register(requestId: string): Promise<RawMqttAnswer>;
  /** Publishes an operation status request with `$rid` = `requestId`. */
  poll(requestId: string, operationId: string): Promise<RawMqttAnswer>;
  close(): void;
}

/** A symmetric key (the SAS token signed with it is the password), or a device certificate and its key (PEM). */
export type RawMqttCredentials = string | { cert: string; key: string };

/** Connects `registrationId`, past CONNACK 0 and SUBACK; `tokenExpiry` (epoch seconds) defaults to an hour ahead. */
export async function connectRawMqttDevice(
  emulator: DpsEmulator,
  registrationId: string,
  credentials: RawMqttCredentials,
  tokenExpiry = Math.floor(Date.now() / 1000) + 3600,
): Promise<RawMqttDevice> {
  const certificate = typeof credentials === 'string' ? {} : credentials;
  const socket = tls.connect({
    host: '127.0.0.1',
    port: emulator.mqttPort,
    ca: emulator.caCertificatePem,
    servername: 'localhost',
    ...certificate,
  });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  const waiters: (() => void)[] = [];
  parser.on('packet', (packet: Packet) => {
    packets.push(packet);
    waiters.splice(0).forEach((wake) => wake());
  });
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  const send = (packet: Packet) => socket.write(mqttPacket.generate(packet));
  // The test's own timeout bounds the wait.
  const next = async <C extends Packet['cmd']>(cmd: C): Promise<Extract<Packet, { cmd: C }>> => {
    for (;;) {
      const index = packets.findIndex((packet) => packet.cmd === cmd);
      if (index >= 0) return packets.splice(index, 1)[0] as Extract<Packet, { cmd: C }>;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const request = async (topic: string, payload: string): Promise<RawMqttAnswer> => {
    send({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false });
    const answer: IPublishPacket = await next('publish');
    return { topic: answer.topic, json: JSON.parse(answer.payload.toString()) as Record<string, unknown> };
  };

  const password =
    typeof credentials === 'string'
      ? buildDeviceSasToken(emulator.idScope, registrationId, credentials, tokenExpiry)
      : undefined;
  send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId: registrationId,
    username: `${emulator.idScope}/registrations/${registrationId}/api-version=2019-03-31`,
    ...(password === undefined ? {} : { password: Buffer.from(password) }),
  });
  const connack = await next('connack');
  if (connack.returnCode !== 0) throw new Error(`CONNACK ${connack.returnCode}`);
  send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: RESPONSE_TOPIC_FILTER, qos: 0 }] });
  await next('suback');

  return {
    register: (requestId) =>
      request(
        `$dps/registrations/PUT/iotdps-register/?$rid=${requestId}`,
        JSON.stringify({ registrationId }),
      ),
    poll: (requestId, operationId) =>
      request(
        `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${requestId}&operationId=${operationId}`,
        '',
      ),
    close: () => socket.destroy(),
  };
}
