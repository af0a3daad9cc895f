// The device API over MQTT 3.1.1, over TLS and over WebSocket (`wss://…/$iothub/websocket`), as the official
// clients speak it (docs/dps-contract.md §4.1): one device per connection, authenticated at CONNECT (username
// `{idScope}/registrations/{registrationId}/api-version=…`, the device SAS token as password, or no password and
// the TLS client certificate for X.509 devices), requests published
// to the register and operation-status topics, answers published on `$dps/registrations/res/{status}/?$rid=…` with
// the HTTPS API's JSON bodies. Each request is mapped onto the HTTPS device route and answered through the same
// dispatch, so both transports allocate the same way; the route is handed the identity proved at CONNECT, which
// the device API reuses while authenticating the request again would give the same (device-api.ts). Framing is
// mqtt-packet's (the parser under the `mqtt` client). Anything outside the contract is refused with a CONNACK code
// or a disconnect, and a log line; the server goes on.
import type { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import * as mqttPacket from 'mqtt-packet';
import type { IConnectPacket, IPublishPacket, ISubscribePacket, Packet } from 'mqtt-packet';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { CLIENT_CERTIFICATE_REQUEST, peerCertificates } from './peer-certificates';
import type { ConnectionIdentity } from './routing';
import { BodyTooLargeError, dispatch, type ServerDeps } from './server';

/** The only topic filter a device subscribes to. */
export const RESPONSE_TOPIC_FILTER = '$dps/registrations/res/#';
const REGISTER_TOPIC = /^\$dps\/registrations\/PUT\/iotdps-register\/\?(.*)$/;
const OPERATION_STATUS_TOPIC = /^\$dps\/registrations\/GET\/iotdps-get-operationstatus\/\?(.*)$/;
const USERNAME = /^([^/]+)\/registrations\/([^/]+)\/(.*)$/;

/** CONNACK return codes of MQTT 3.1.1 (OASIS standard, §3.2.2.3). */
export const ConnackCode = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const;

export interface MqttEndpointDeps {
  dispatch: ServerDeps;
  idScope: string;
  /** The identity a device SAS token proves for the connection, if any (device-api.ts deviceTokenAccepted). */
  tokenAccepted: (
    authorization: string,
    idScope: string,
    registrationId: string,
  ) => ConnectionIdentity | undefined;
  /** The identity a TLS client certificate chain attests, if any (device-api.ts; logs why not). */
  certificateAccepted: (
    chain: readonly X509Certificate[],
    idScope: string,
    registrationId: string,
  ) => ConnectionIdentity | undefined;
  /** A packet larger than this (its payload is a request body) closes the connection. */
  maxPacketBytes: number;
  log?: (line: string) => void;
}

interface Session {
  idScope: string;
  registrationId: string;
  apiVersion: string;
  /** The SAS token; undefined when the TLS client certificate authenticates the device. */
  authorization: string | undefined;
  /** Dispatch whose device routes are handed the identity proved at CONNECT. */
  dispatch: ServerDeps;
  /** QoS of the answers: what the response subscription was granted (DPS grants at most 1). */
  answerQos: 0 | 1;
  nextMessageId: number;
}

/**
 * The dispatch of one connection: its device routes see the connection's identity in their context (the headers
 * and the certificates still go along, for a request the identity no longer covers).
 */
function withConnectionIdentity(deps: ServerDeps, identity: ConnectionIdentity): ServerDeps {
  return {
    ...deps,
    match: (method, segments) => {
      const route = deps.match(method, segments);
      if (route?.api !== 'device') return route;
      return { ...route, handle: (context) => route.handle({ ...context, connectionIdentity: identity }) };
    },
  };
}

/** Serves one MQTT connection on `stream` (a TLS socket, or a WebSocket's stream). */
export function serveMqttConnection(
  stream: Duplex,
  clientCertificates: readonly X509Certificate[],
  deps: MqttEndpointDeps,
): void {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let session: Session | undefined;
  let unparsedBytes = 0;
  const log = (line: string) => deps.log?.(`MQTT ${session?.registrationId ?? '(not connected)'}: ${line}`);
  const send = (packet: Packet) => {
    if (!stream.destroyed) stream.write(mqttPacket.generate(packet));
  };
  const close = (reason: string) => {
    log(`${reason}; connection closed`);
    stream.destroy();
  };
  const refuse = (returnCode: number, reason: string) => {
    send({ cmd: 'connack', returnCode, sessionPresent: false });
    log(`CONNACK ${returnCode}: ${reason}`);
    stream.end();
  };

  const onConnect = (packet: IConnectPacket) => {
    if (session) return close('a second CONNECT');
    if (packet.protocolVersion !== 4) {
      return refuse(ConnackCode.unacceptableProtocolVersion, 'DPS speaks MQTT 3.1.1 (protocol level 4)');
    }
    const parts = USERNAME.exec(packet.username ?? '');
    if (!parts) {
      return refuse(
        ConnackCode.badUserNameOrPassword,
        'the username must be {idScope}/registrations/{registrationId}/api-version={version}',
      );
    }
    const [, idScope = '', registrationId = '', query = ''] = parts;
    if (packet.clientId !== registrationId) {
      return refuse(
        ConnackCode.identifierRejected,
        'the client id must be the registration id of the username',
      );
    }
    const apiVersion = new URLSearchParams(query).get('api-version');
    if (!apiVersion) return refuse(ConnackCode.badUserNameOrPassword, 'the username has no api-version');
    const password = packet.password?.toString('utf8') ?? '';
    const authorization = password === '' ? undefined : password;
    let identity: ConnectionIdentity | undefined;
    if (authorization === undefined) {
      if (clientCertificates.length === 0) {
        return refuse(
          ConnackCode.notAuthorized,
          'neither a SAS token as password nor a TLS client certificate',
        );
      }
      identity = deps.certificateAccepted(clientCertificates, idScope, registrationId);
      if (!identity) {
        return refuse(
          ConnackCode.notAuthorized,
          `the client certificate does not attest ${registrationId.slice(0, 128)}`,
        );
      }
    } else {
      identity = deps.tokenAccepted(authorization, idScope, registrationId);
      if (!identity) {
        return refuse(
          ConnackCode.notAuthorized,
          `the SAS token does not authenticate ${registrationId.slice(0, 128)}`,
        );
      }
    }
    session = {
      idScope,
      registrationId,
      apiVersion,
      authorization,
      dispatch: withConnectionIdentity(deps.dispatch, identity),
      answerQos: 0,
      nextMessageId: 1,
    };
    send({ cmd: 'connack', returnCode: ConnackCode.accepted, sessionPresent: false });
  };

  const onSubscribe = (packet: ISubscribePacket, current: Session) => {
    // DPS grants at most QoS 1, and answers at the granted QoS (learn.microsoft.com/azure/iot/iot-mqtt-connect-to-iot-dps).
    const granted = packet.subscriptions.map((subscription) =>
      subscription.topic === RESPONSE_TOPIC_FILTER ? Math.min(subscription.qos, 1) : 0x80,
    );
    const responseQos = granted.find((qos) => qos !== 0x80);
    if (responseQos !== undefined) current.answerQos = responseQos === 1 ? 1 : 0;
    for (const subscription of packet.subscriptions) {
      if (subscription.topic !== RESPONSE_TOPIC_FILTER)
        log(`subscription to '${subscription.topic.slice(0, 200)}' refused`);
    }
    send({ cmd: 'suback', messageId: packet.messageId ?? 0, granted });
  };

  const onPublish = async (packet: IPublishPacket, current: Session) => {
    if (packet.qos === 2) return close('QoS 2 is not supported by DPS');
    const register = REGISTER_TOPIC.exec(packet.topic);
    const status = register ? undefined : OPERATION_STATUS_TOPIC.exec(packet.topic);
    const query = new URLSearchParams((register ?? status)?.[1] ?? '');
    const requestId = query.get('$rid');
    if ((!register && !status) || !requestId) {
      return close(`publish to '${packet.topic.slice(0, 200)}' is outside the DPS topics (or has no $rid)`);
    }
    if (packet.qos === 1) send({ cmd: 'puback', messageId: packet.messageId ?? 0 });
    const registrationPath = `/${encodeURIComponent(current.idScope)}/registrations/${encodeURIComponent(current.registrationId)}`;
    const operationId = query.get('operationId') ?? '';
    const path = register
      ? `${registrationPath}/register`
      : `${registrationPath}/operations/${encodeURIComponent(operationId)}`;
    const url = new URL(`https://emulator.invalid${path}`);
    url.searchParams.set('api-version', current.apiVersion);
    const body = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    const { answer, truncate } = await dispatch(current.dispatch, {
      method: register ? 'PUT' : 'GET',
      url,
      headers: {
        ...(current.authorization === undefined ? {} : { authorization: current.authorization }),
        'content-type': 'application/json',
      },
      readBody: (maxBytes) =>
        body.length > maxBytes ? Promise.reject(new BodyTooLargeError()) : Promise.resolve(body),
      clientCertificates: current.authorization === undefined ? clientCertificates : [],
      protocol: 'Mqtt',
    });
    if (!answer || truncate) return close('dropped by the fault plan');
    const retryAfter = answer.headers?.['retry-after'];
    const topic =
      `$dps/registrations/res/${answer.status}/?$rid=${encodeURIComponent(requestId)}` +
      (retryAfter === undefined ? '' : `&retry-after=${encodeURIComponent(retryAfter)}`);
    deps.log?.(
      `MQTT ${register ? 'register' : 'operation status'} ${current.registrationId} -> ${answer.status}`,
    );
    const messageId = current.nextMessageId;
    current.nextMessageId = (messageId % 0xffff) + 1;
    send({
      cmd: 'publish',
      topic,
      payload: Buffer.from(JSON.stringify(answer.body ?? {}), 'utf8'),
      qos: current.answerQos,
      ...(current.answerQos === 1 ? { messageId } : {}),
      dup: false,
      retain: false,
    });
  };

  parser.on('packet', (packet: Packet) => {
    unparsedBytes = 0;
    if (packet.cmd === 'connect') return onConnect(packet);
    if (!session) return close(`${packet.cmd} before CONNECT`);
    const current = session;
    switch (packet.cmd) {
      case 'subscribe':
        return onSubscribe(packet, current);
      case 'unsubscribe':
        return send({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
      case 'publish':
        onPublish(packet, current).catch((error: Error) => close(`request failed: ${error.message}`));
        return;
      case 'puback':
        return; // answers are not redelivered: DPS keeps no session (every session is a clean one)
      case 'pingreq':
        return send({ cmd: 'pingresp' });
      case 'disconnect':
        stream.end();
        return;
      default:
        return close(`unexpected ${packet.cmd} packet`);
    }
  });
  parser.on('error', (error: Error) => close(`malformed MQTT packet (${error.message})`));

  stream.on('data', (chunk: Buffer) => {
    unparsedBytes += chunk.length;
    if (unparsedBytes > deps.maxPacketBytes) {
      close(`a packet larger than ${deps.maxPacketBytes} bytes`);
      return;
    }
    parser.parse(chunk);
  });
  stream.on('error', () => undefined); // a device that goes away mid-packet
}

/** MQTT over TLS: the TLS server presents the emulator's certificate; each connection is one device. */
export function createMqttServer(
  certificate: { certPem: string; keyPem: string },
  deps: MqttEndpointDeps,
): tls.Server {
  const options = { key: certificate.keyPem, cert: certificate.certPem, ...CLIENT_CERTIFICATE_REQUEST };
  const server = tls.createServer(options, (socket) =>
    serveMqttConnection(socket, peerCertificates(socket), deps),
  );
  server.on('tlsClientError', () => undefined);
  return server;
}

/** The path of MQTT over WebSocket on DPS (and IoT Hub). */
export const MQTT_WEBSOCKET_PATH = '/$iothub/websocket';

/**
 * MQTT over WebSocket: an HTTPS server that upgrades `/$iothub/websocket` (subprotocol `mqtt`) and serves the
 * WebSocket's stream as one MQTT connection; any other request is a 404.
 */
export function createMqttWebSocketServer(
  certificate: { certPem: string; keyPem: string },
  deps: MqttEndpointDeps,
): https.Server {
  const server = https.createServer(
    { key: certificate.keyPem, cert: certificate.certPem, ...CLIENT_CERTIFICATE_REQUEST },
    (_request, response) => {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`MQTT over WebSocket is on ${MQTT_WEBSOCKET_PATH}\n`);
    },
  );
  const sockets = new WebSocketServer({
    server,
    path: MQTT_WEBSOCKET_PATH,
    maxPayload: deps.maxPacketBytes,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  sockets.on('connection', (socket, upgrade) => {
    const stream = createWebSocketStream(socket);
    serveMqttConnection(stream, peerCertificates(upgrade.socket as tls.TLSSocket), deps);
  });
  sockets.on('error', () => undefined);
  server.on('tlsClientError', () => undefined);
  return server;
}
