// The official IoT Hub service SDK (azure-iothub) pointed at the emulator. Its Registry dials the hub's host name
// on port 443 (docs/dps-contract.md §7.3), so it gets an https.Agent that sends every connection to the hub port
// on 127.0.0.1 and checks the emulator's certificate under the name `localhost`; the Host header still names the
// hub, which is how the emulator tells hubs apart. Nothing else of the SDK changes.
import type https from 'node:https';
import { ConnectionString, Registry, SharedAccessSignature } from 'azure-iothub';
import { Http } from 'azure-iothub/dist/common-http/http';
import { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import { PortAgent } from '../dps-emulator/sdk-clients';
import type { HubPolicyName } from './auth';

/** The SDK's Http with one agent for good: the Registry constructor would replace it with a keep-alive agent of its own. */
class PinnedAgentHttp extends Http {
  constructor(private readonly agent: https.Agent) {
    super();
    super.setOptions({ http: { agent } });
  }

  override setOptions(options: { http?: Record<string, unknown> } & Record<string, unknown>): void {
    super.setOptions({ ...options, http: { ...options?.http, agent: this.agent } });
  }
}

export interface HubEmulatorAddress {
  hubPort: number;
  caCertificatePem: string;
  hubConnectionString(hostName: string, policy?: HubPolicyName): string;
}

export interface SdkRegistryOptions {
  /** Default `iothubowner`. */
  policy?: HubPolicyName;
  /** Instead of the emulator's: e.g. one with a wrong key. */
  connectionString?: string;
  /** A ready token sent as it is (never renewed), e.g. an expired one. */
  sharedAccessSignature?: string;
  agent?: https.Agent;
}

/** The official Registry for one emulated hub, as `Registry.fromConnectionString` builds it, through a PortAgent. */
export function createSdkRegistry(
  emulator: HubEmulatorAddress,
  hubHostName: string,
  options: SdkRegistryOptions = {},
): Registry {
  const parsed = ConnectionString.parse(
    options.connectionString ?? emulator.hubConnectionString(hubHostName, options.policy),
  );
  const host = parsed.HostName!;
  // A signature object (not a string) is renewed an hour ahead on every call, as the SDK does for connection strings.
  const sharedAccessSignature =
    options.sharedAccessSignature ??
    SharedAccessSignature.create(host, parsed.SharedAccessKeyName!, parsed.SharedAccessKey!, Date.now());
  const config = { host, sharedAccessSignature, tokenCredential: undefined };
  const agent = options.agent ?? new PortAgent(emulator.hubPort, { ca: emulator.caCertificatePem });
  return new Registry(
    config,
    new RestApiClient(config, 'azure-iothub/emulator-test', new PinnedAgentHttp(agent)),
  );
}

/** Resolves with the SDK's promise result; the official promises resolve `{ responseBody, httpResponse }`. */
export async function sdkBody<T>(call: Promise<{ responseBody: T }>): Promise<T> {
  return (await call).responseBody;
}
