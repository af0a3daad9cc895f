// A minimal DPS device over MQTT for load generation (docs/dps-contract.md §4.1): one TLS connection per
// registration, as devices do. CONNECT (client id = the registration id, username
// `{idScope}/registrations/{id}/api-version=2019-03-31`; the device SAS token as password, or no password and the
// TLS client certificate for X.509), SUBSCRIBE `$dps/registrations/res/#`, PUBLISH the register request, then an
// operation-status request after what `retry-after` says while the answer is 202. A 429 is waited out
// (`retry-after`) and the same request published again. mqtt-packet framing over node:tls, QoS 0 both ways, a full
// TLS handshake every time (no session resumption). No SDK: the figures then show the emulator and the webhook.
import tls from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import * as mqttPacket from 'mqtt-packet';
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { buildDeviceSasToken } from '../../src/dps/sas';

export const MQTT_DEVICE_API_VERSION = '2019-03-31';
const RESPONSE_TOPIC_FILTER = '$dps/registrations/res/#';
const ANSWER_TOPIC = /^\$dps\/registrations\/res\/(\d{3})\/\?(.*)$/;
/** A registration that is not done after this long counts as failed. */
const REGISTRATION_TIMEOUT_MS = 120_000;

export interface MqttDeviceEndpoint {
  /** The emulator's MQTT-over-TLS port on 127.0.0.1. */
  mqttPort: number;
  caCertificatePem: string;
}

/**
 * How the device authenticates. `tls` is its TLS context (deviceTlsContext): for X.509 it holds the device
 * certificate and key, which then authenticate the device.
 */
export type LeanMqttCredentials =
  | { kind: 'symmetricKey'; deviceKey: string; tls: tls.SecureContext }
  | { kind: 'x509'; tls: tls.SecureContext };

/**
 * The TLS context a device connects with: the emulator's certificate as its CA and, for X.509, the device
 * certificate (then the intermediates it sends) and its private key, PEM. Built once per device, as a device loads
 * its credentials once and not for every connection; contexts can be shared by symmetric-key devices.
 */
export function deviceTlsContext(
  endpoint: MqttDeviceEndpoint,
  certificate?: { cert: string; key: string },
): tls.SecureContext {
  return tls.createSecureContext({ ca: endpoint.caCertificatePem, ...certificate });
}

export interface LeanMqttDevice {
  idScope: string;
  registrationId: string;
  credentials: LeanMqttCredentials;
  payload?: Record<string, unknown>;
}

export interface LeanMqttRegistration {
  status: string;
  assignedHub: string | undefined;
  errorCode: number | undefined;
  errorMessage: string | undefined;
  /** PUBLISHed requests: the register request and every operation-status request, 429s included. */
  requests: number;
  /** Answers 429 (throttled), each waited out and the request published again. */
  throttled: number;
}

interface OperationAnswer {
  operationId?: string;
  status?: string;
  errorCode?: number;
  registrationState?: { assignedHub?: string; errorCode?: number; errorMessage?: string };
}

/** A CONNACK refusal or an answer the device cannot go on from (not 200, 202 or 429). */
export class MqttDeviceError extends Error {}

/** One device connection: packets in arrival order, read by one sequential caller. */
class DeviceConnection {
  private readonly packets: Packet[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: tls.TLSSocket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      this.notify();
    });
    parser.on('error', (error: Error) => this.fail(error));
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', (error: Error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the MQTT connection closed')));
  }

  /** Connects over TLS (the client certificate is in the X.509 context) and resolves after the handshake. */
  static open(
    endpoint: MqttDeviceEndpoint,
    credentials: LeanMqttCredentials,
    signal: AbortSignal | undefined,
  ): Promise<DeviceConnection> {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: endpoint.mqttPort,
      servername: 'localhost',
      secureContext: credentials.tls,
    });
    const connection = new DeviceConnection(socket);
    if (signal) {
      const abort = () =>
        socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal.aborted) abort();
      signal.addEventListener('abort', abort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', abort));
    }
    return new Promise((resolve, reject) => {
      socket.once('secureConnect', () => resolve(connection));
      socket.once('close', () => reject(connection.failure ?? new Error('the TLS handshake failed')));
    });
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet));
  }

  async next<C extends Packet['cmd']>(cmd: C): Promise<Extract<Packet, { cmd: C }>> {
    for (;;) {
      const index = this.packets.findIndex((packet) => packet.cmd === cmd);
      if (index >= 0) return this.packets.splice(index, 1)[0] as Extract<Packet, { cmd: C }>;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** DISCONNECT, then the socket is ended (the server closes its side too). */
  close(): void {
    if (this.socket.destroyed) return;
    this.send({ cmd: 'disconnect' });
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

interface Answer {
  status: number;
  retryAfterMs: number;
  body: OperationAnswer;
}

function parseAnswer(packet: IPublishPacket, requestId: string): Answer {
  const match = ANSWER_TOPIC.exec(packet.topic);
  if (!match) throw new MqttDeviceError(`an answer on an unexpected topic '${packet.topic.slice(0, 100)}'`);
  const query = new URLSearchParams(match[2]);
  if (query.get('$rid') !== requestId) throw new MqttDeviceError('an answer to another request id');
  const retryAfter = Number(query.get('retry-after') ?? 0);
  const text = packet.payload.toString();
  return {
    status: Number(match[1]),
    retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : 0,
    body: text ? (JSON.parse(text) as OperationAnswer) : {},
  };
}

/**
 * Registers one device over one MQTT connection and waits for the outcome; rejects with MqttDeviceError on a
 * CONNACK refusal or an answer other than 200, 202 and 429, and with an AbortError once `signal` aborts.
 */
export async function registerLeanMqtt(
  endpoint: MqttDeviceEndpoint,
  device: LeanMqttDevice,
  signal?: AbortSignal,
): Promise<LeanMqttRegistration> {
  const { idScope, registrationId, credentials } = device;
  const password =
    credentials.kind === 'symmetricKey'
      ? buildDeviceSasToken(
          idScope,
          registrationId,
          credentials.deviceKey,
          Math.floor(Date.now() / 1000) + 3600,
        )
      : undefined;
  const deadline = performance.now() + REGISTRATION_TIMEOUT_MS;
  const connection = await DeviceConnection.open(endpoint, credentials, signal);
  try {
    connection.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      clientId: registrationId,
      username: `${idScope}/registrations/${registrationId}/api-version=${MQTT_DEVICE_API_VERSION}`,
      ...(password === undefined ? {} : { password: Buffer.from(password, 'utf8') }),
    });
    const connack = await connection.next('connack');
    if (connack.returnCode !== 0) throw new MqttDeviceError(`CONNACK ${connack.returnCode}`);
    connection.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: RESPONSE_TOPIC_FILTER, qos: 0 }],
    });
    await connection.next('suback');

    let requests = 0;
    let throttled = 0;
    const request = async (topic: (requestId: string) => string, payload: string): Promise<Answer> => {
      for (;;) {
        if (performance.now() > deadline) {
          throw new MqttDeviceError(`not done after ${REGISTRATION_TIMEOUT_MS} ms`);
        }
        requests++;
        const requestId = String(requests);
        connection.send({
          cmd: 'publish',
          topic: topic(requestId),
          payload,
          qos: 0,
          dup: false,
          retain: false,
        });
        const answer = parseAnswer(await connection.next('publish'), requestId);
        if (answer.status !== 429) return answer;
        throttled++;
        await delay(answer.retryAfterMs, undefined, signal ? { signal } : {});
      }
    };

    let answer = await request(
      (rid) => `$dps/registrations/PUT/iotdps-register/?$rid=${rid}`,
      JSON.stringify({ registrationId, payload: device.payload }),
    );
    while (answer.status === 202) {
      const operationId = answer.body.operationId;
      if (operationId === undefined) throw new MqttDeviceError('a 202 answer without an operationId');
      if (answer.retryAfterMs > 0) await delay(answer.retryAfterMs, undefined, signal ? { signal } : {});
      answer = await request(
        (rid) =>
          `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${rid}&operationId=${encodeURIComponent(operationId)}`,
        '',
      );
    }
    if (answer.status !== 200) {
      const code = answer.body.errorCode;
      throw new MqttDeviceError(`MQTT answer ${answer.status}${code === undefined ? '' : ` (${code})`}`);
    }
    const state = answer.body.registrationState;
    connection.close();
    return {
      status: answer.body.status ?? 'unknown',
      assignedHub: state?.assignedHub,
      errorCode: state?.errorCode,
      errorMessage: state?.errorMessage,
      requests,
      throttled,
    };
  } catch (error) {
    connection.destroy();
    throw error;
  }
}
