// The emulated IoT hubs of one DPS emulator: a registry and two shared access policies per hub, by host name
// (case-insensitive, kept as first written). Hubs are added, never removed: a hub unlinked from DPS keeps its
// devices, as a real hub outlives its link.
import type { HubPolicy, HubPolicyName } from './auth';
import { HUB_OWNER_POLICY, hubPolicies } from './auth';
import type { HubRegistrySnapshot } from './registry';
import { HubRegistry } from './registry';

export interface EmulatedHub {
  hostName: string;
  policies: readonly HubPolicy[];
  registry: HubRegistry;
}

export interface HubSnapshot {
  hostName: string;
  policies: Array<{ keyName: string; primaryKey: string }>;
  registry: HubRegistrySnapshot;
}

export class IotHubs {
  private readonly hubs = new Map<string, EmulatedHub>();
  private readonly listeners: Array<() => void> = [];

  constructor(saved: readonly HubSnapshot[] = []) {
    for (const hub of saved) this.add(hub.hostName, hub);
  }

  /** Called after every change to any hub (persistence debounces on it). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Adds a hub for each host name that has none yet. */
  ensure(hostNames: readonly string[]): void {
    let added = false;
    for (const hostName of hostNames) {
      if (this.hubs.has(hostName.toLowerCase())) continue;
      this.add(hostName);
      added = true;
    }
    if (added) this.changed();
  }

  find(hostName: string): EmulatedHub | undefined {
    return this.hubs.get(hostName.toLowerCase());
  }

  /** The registry of a hub; an unknown host name is the caller's mistake. */
  registry(hostName: string): HubRegistry {
    const hub = this.find(hostName);
    if (!hub) throw new Error(`No emulated IoT hub '${hostName}' (hubs: ${this.hostNames().join(', ')})`);
    return hub.registry;
  }

  hostNames(): string[] {
    return [...this.hubs.values()].map((hub) => hub.hostName);
  }

  /** `HostName=<hub>;SharedAccessKeyName=<policy>;SharedAccessKey=<key>`, as the Azure portal shows it. */
  connectionString(hostName: string, policyName: HubPolicyName = HUB_OWNER_POLICY): string {
    const hub = this.find(hostName);
    if (!hub) throw new Error(`No emulated IoT hub '${hostName}'`);
    const policy = hub.policies.find((candidate) => candidate.keyName === policyName);
    if (!policy) throw new Error(`IoT hub '${hostName}' has no policy '${policyName}'`);
    return `HostName=${hub.hostName};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.primaryKey}`;
  }

  snapshot(): HubSnapshot[] {
    return [...this.hubs.values()].map((hub) => ({
      hostName: hub.hostName,
      policies: hub.policies.map(({ keyName, primaryKey }) => ({ keyName, primaryKey })),
      registry: hub.registry.snapshot(),
    }));
  }

  private add(hostName: string, saved?: HubSnapshot): void {
    const registry = new HubRegistry(hostName, () => this.changed(), Date.now, saved?.registry);
    this.hubs.set(hostName.toLowerCase(), { hostName, policies: hubPolicies(saved?.policies), registry });
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
