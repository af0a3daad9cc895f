// The official service SDK pointed at the emulator as dev/dps-emulator/sdk-clients.ts does it, but with a
// keep-alive agent. createSdkServiceClient's PortAgent does not keep connections alive, so every request opens a
// new TLS connection; a real deployment uses Node's global agent, which does (keepAlive: true since Node 19).
import { ConnectionString, SharedAccessSignature, anHourFromNow } from 'azure-iot-common';
import { Http as HttpBase, RestApiClient } from 'azure-iot-http-base';
import { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import { PortAgent, type EmulatorAddress } from '../../dev/dps-emulator/sdk-clients';

export function createKeepAliveSdkServiceClient(
  emulator: EmulatorAddress,
  sdkConnectionString: string,
): { client: ProvisioningServiceClient; close(): void } {
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
  const agent = new PortAgent(emulator.port, { ca: emulator.caCertificatePem, keepAlive: true });
  const base = new HttpBase();
  base.setOptions({ http: { agent } });
  const client = new ProvisioningServiceClient(
    config,
    new RestApiClient(config, 'azure-iot-provisioning-service/dps-allocator-bench', base),
  );
  return { client, close: () => agent.destroy() };
}
