// The ports a standalone emulator (and `npm start`) takes by default: DPS's own MQTT ports, 8883 for MQTT over TLS
// and 443 for MQTT over WebSocket (https://learn.microsoft.com/azure/iot-dps/iot-dps-mqtt-support). The Node MqttWs
// transport and the Python SDK always dial 443, so it is taken where it can be; where it cannot (no privilege, in
// use), any free port is taken instead and the caller says so.
import { startDpsEmulator, type DpsEmulator, type DpsEmulatorOptions } from './emulator';

export const DEFAULT_MQTT_PORT = 8883;
export const DEFAULT_MQTT_WEBSOCKET_PORT = 443;

export interface StartedOnPorts {
  emulator: DpsEmulator;
  /** Why the WebSocket endpoint is not on 443, when the default could not be bound. */
  webSocketFallback?: string;
}

/** Starts the emulator; a default WebSocket port (443) that cannot be bound falls back to a free port. */
export async function startOnStandardPorts(
  options: DpsEmulatorOptions,
  webSocketPortGiven: boolean,
): Promise<StartedOnPorts> {
  try {
    return { emulator: await startDpsEmulator(options) };
  } catch (error) {
    const message = (error as Error).message;
    const onDefault = options.mqttWebSocketPort === DEFAULT_MQTT_WEBSOCKET_PORT && !webSocketPortGiven;
    if (!onDefault || !message.includes(`127.0.0.1:${DEFAULT_MQTT_WEBSOCKET_PORT}:`)) throw error;
    const emulator = await startDpsEmulator({ ...options, mqttWebSocketPort: 0 });
    return {
      emulator,
      webSocketFallback:
        `MQTT over WebSocket could not take port 443 (${message.replace(/^.*443: /, '')}); it is on ` +
        `${emulator.mqttWebSocketPort}. Clients that always dial 443 (Node MqttWs, Python websockets=True) need 443.`,
    };
  }
}
