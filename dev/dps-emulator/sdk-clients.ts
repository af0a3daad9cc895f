// The official Azure IoT SDK clients, unchanged, pointed at the emulator. The SDKs cannot dial `host:port`
// (docs/dps-contract.md §7.3), so they get `localhost` and an https.Agent that rewrites the port (PortAgent)
// and trusts the emulator's certificate.
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { ConnectionString, SharedAccessSignature, anHourFromNow } from 'azure-iot-common';
import { Http as HttpBase, RestApiClient } from 'azure-iot-http-base';
import type { RegistrationResult } from 'azure-iot-provisioning-device';
import { ProvisioningDeviceClient } from 'azure-iot-provisioning-device';
import { MqttBase } from 'azure-iot-mqtt-base';
import { Mqtt as DeviceMqtt, MqttWs as DeviceMqttWs } from 'azure-iot-provisioning-device-mqtt';
import { Http as DeviceHttp } from 'azure-iot-provisioning-device-http';
import { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import { SymmetricKeySecurityClient } from 'azure-iot-security-symmetric-key';
import { X509Security } from 'azure-iot-security-x509';

/**
 * Sends every connection to 127.0.0.1:`targetPort`, whatever host the SDK names (`localhost` for DPS, the hub's
 * `*.azure-devices.net` name for IoT Hub), and checks the emulator's certificate as `localhost`.
 */
export class PortAgent extends https.Agent {
  constructor(
    private readonly targetPort: number,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    return super.createConnection(
      { ...options, host: '127.0.0.1', port: this.targetPort, servername: 'localhost' },
      callback,
    );
  }
}

export interface EmulatorAddress {
  port: number;
  caCertificatePem: string;
}

/** An azure-iot-http-base Http whose requests reach the emulator (by default one TLS connection per request). */
export function emulatorHttpBase(
  emulator: EmulatorAddress,
  agent: https.Agent = new PortAgent(emulator.port, { ca: emulator.caCertificatePem }),
): HttpBase {
  const base = new HttpBase();
  base.setOptions({ http: { agent } });
  return base;
}

/** The official device client (HTTP transport, symmetric key) for one registration id. */
export function createSdkDeviceClient(
  emulator: EmulatorAddress & { idScope: string },
  registrationId: string,
  deviceKey: string,
): ReturnType<typeof ProvisioningDeviceClient.create> {
  return ProvisioningDeviceClient.create(
    'localhost',
    emulator.idScope,
    new DeviceHttp(emulatorHttpBase(emulator)),
    new SymmetricKeySecurityClient(registrationId, deviceKey),
  );
}

/**
 * The official device client over MQTT (TLS), symmetric key: `localhost:PORT` as the host (the MQTT transport takes
 * a port), the emulator's certificate as the CA.
 */
export function createSdkMqttDeviceClient(
  emulator: { mqttPort: number; idScope: string; caCertificatePem: string },
  registrationId: string,
  deviceKey: string,
): ReturnType<typeof ProvisioningDeviceClient.create> {
  const base = new MqttBase();
  base.setOptions({ ca: emulator.caCertificatePem });
  return ProvisioningDeviceClient.create(
    `localhost:${emulator.mqttPort}`,
    emulator.idScope,
    new DeviceMqtt(base),
    new SymmetricKeySecurityClient(registrationId, deviceKey),
  );
}

/**
 * The official device client over MQTT over WebSocket, symmetric key. The transport always dials
 * `wss://{host}:443/$iothub/websocket`; its webSocketAgent option takes a PortAgent that goes to the emulator's port.
 */
export function createSdkMqttWsDeviceClient(
  emulator: { mqttWebSocketPort: number; idScope: string; caCertificatePem: string },
  registrationId: string,
  deviceKey: string,
): ReturnType<typeof ProvisioningDeviceClient.create> {
  const base = new MqttBase();
  const webSocketAgent = new PortAgent(emulator.mqttWebSocketPort, { ca: emulator.caCertificatePem });
  base.setOptions({ ca: emulator.caCertificatePem, mqtt: { webSocketAgent } });
  return ProvisioningDeviceClient.create(
    'localhost',
    emulator.idScope,
    new DeviceMqttWs(base),
    new SymmetricKeySecurityClient(registrationId, deviceKey),
  );
}

export type SdkDeviceTransport = 'http' | 'mqtt' | 'mqttWs';

/** A device's certificate (and the intermediates it sends after it) and private key, in PEM. */
export interface DeviceCertificatePems {
  cert: string;
  key: string;
}

/**
 * The official device client with the X.509 security client (azure-iot-security-x509): the TLS client
 * certificate authenticates the device, over HTTPS, MQTT or MQTT over WebSocket.
 */
export function createSdkX509DeviceClient(
  emulator: EmulatorAddress & {
    idScope: string;
    mqttPort: number;
    mqttWebSocketPort: number;
  },
  transport: SdkDeviceTransport,
  registrationId: string,
  certificate: DeviceCertificatePems,
): ReturnType<typeof ProvisioningDeviceClient.create> {
  const security = new X509Security(registrationId, certificate);
  if (transport === 'http') {
    return ProvisioningDeviceClient.create(
      'localhost',
      emulator.idScope,
      new DeviceHttp(emulatorHttpBase(emulator)),
      security,
    );
  }
  const base = new MqttBase();
  if (transport === 'mqtt') {
    base.setOptions({ ca: emulator.caCertificatePem });
    return ProvisioningDeviceClient.create(
      `localhost:${emulator.mqttPort}`,
      emulator.idScope,
      new DeviceMqtt(base),
      security,
    );
  }
  const webSocketAgent = new PortAgent(emulator.mqttWebSocketPort, { ca: emulator.caCertificatePem });
  base.setOptions({ ca: emulator.caCertificatePem, mqtt: { webSocketAgent } });
  return ProvisioningDeviceClient.create('localhost', emulator.idScope, new DeviceMqttWs(base), security);
}

/** Registers through the official client; resolves with the result, rejects with the SDK's error. */
export function registerWithClient(
  client: ReturnType<typeof ProvisioningDeviceClient.create>,
  payload?: Record<string, unknown>,
): Promise<RegistrationResult> {
  if (payload) client.setProvisioningPayload(payload);
  return new Promise((resolve, reject) => {
    client.register((error, result) => (error ? reject(error) : resolve(result!)));
  });
}

/** The official service client for a `HostName=localhost;...` connection string (the SDK form). */
export function createSdkServiceClient(
  emulator: EmulatorAddress,
  sdkConnectionString: string,
  agent?: https.Agent,
): ProvisioningServiceClient {
  const parsed = ConnectionString.parse(sdkConnectionString, [
    'HostName',
    'SharedAccessKeyName',
    'SharedAccessKey',
  ]);
  const config = {
    host: parsed.HostName!,
    sharedAccessSignature: SharedAccessSignature.create(
      parsed.HostName!,
      parsed.SharedAccessKeyName!,
      parsed.SharedAccessKey!,
      anHourFromNow(),
    ),
  };
  return new ProvisioningServiceClient(
    config,
    new RestApiClient(
      config,
      'azure-iot-provisioning-service/emulator-test',
      emulatorHttpBase(emulator, agent),
    ),
  );
}

/** Registers a device through the official device SDK; resolves with the registration state it returns. */
export function registerWithSdk(
  emulator: EmulatorAddress & { idScope: string },
  registrationId: string,
  deviceKey: string,
  payload?: Record<string, unknown>,
): Promise<RegistrationResult> {
  const client = createSdkDeviceClient(emulator, registrationId, deviceKey);
  if (payload) client.setProvisioningPayload(payload);
  return new Promise((resolve, reject) => {
    client.register((error, result) => (error ? reject(error) : resolve(result!)));
  });
}
