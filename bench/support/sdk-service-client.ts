// The official service SDK pointed at the emulator with a keep-alive agent. createSdkServiceClient's default agent
// does not keep connections alive, so every request opens a new TLS connection; a real deployment uses Node's
// global agent, which does (keepAlive: true since Node 19).
import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import { PortAgent, createSdkServiceClient, type EmulatorAddress } from '../../dev/dps-emulator/sdk-clients';

export function createKeepAliveSdkServiceClient(
  emulator: EmulatorAddress,
  sdkConnectionString: string,
): { client: ProvisioningServiceClient; close(): void } {
  const agent = new PortAgent(emulator.port, { ca: emulator.caCertificatePem, keepAlive: true });
  return {
    client: createSdkServiceClient(emulator, sdkConnectionString, agent),
    close: () => agent.destroy(),
  };
}
