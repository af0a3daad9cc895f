// The Authorization header of DPS service calls (docs/dps-contract.md §3): a SAS token from the
// service connection string, or a Microsoft Entra ID bearer token. @azure/identity is loaded only when
// Entra is used (cold start).
import type * as Identity from '@azure/identity';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { Clock } from './clock';
import { buildServiceSasToken, parseServiceConnectionString, type ServiceConnectionString } from './sas';

/** Entra scope of the DPS data plane. */
export const DPS_ENTRA_SCOPE = 'https://azure-devices-provisioning.net/.default';

/** Produces the `Authorization` header value for the next request. */
export interface DpsAuthorizer {
  authorization(signal?: AbortSignal): Promise<string>;
}

export interface SasAuthorizerOptions {
  /** Token lifetime; the SDKs use one hour. */
  ttlSeconds?: number;
  /** A new token is made when the current one has less than this left. */
  renewBeforeSeconds?: number;
}

/** SAS tokens signed with the policy key of a service connection string, regenerated before they expire. */
export class SasAuthorizer implements DpsAuthorizer {
  private token: string | undefined;
  private expiry = 0;
  private readonly ttlSeconds: number;
  private readonly renewBeforeSeconds: number;

  constructor(
    private readonly connection: ServiceConnectionString,
    private readonly clock: Clock,
    options: SasAuthorizerOptions = {},
  ) {
    this.ttlSeconds = options.ttlSeconds ?? 3600;
    this.renewBeforeSeconds = options.renewBeforeSeconds ?? 300;
  }

  async authorization(): Promise<string> {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    if (this.token === undefined || nowSeconds >= this.expiry - this.renewBeforeSeconds) {
      this.expiry = nowSeconds + this.ttlSeconds;
      const { hostName, sharedAccessKeyName, sharedAccessKey } = this.connection;
      this.token = buildServiceSasToken(hostName, sharedAccessKeyName, sharedAccessKey, this.expiry);
    }
    return this.token;
  }
}

/** `new DefaultAzureCredential()`, requiring @azure/identity only now. */
export function loadDefaultAzureCredential(): TokenCredential {
  // A plain require keeps the CommonJS build of @azure/identity and its cost off the SAS path.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require('@azure/identity') as typeof Identity;
  return new identity.DefaultAzureCredential();
}

/** Bearer tokens from a TokenCredential, cached until shortly before they expire. */
export class EntraAuthorizer implements DpsAuthorizer {
  private credential: TokenCredential | undefined;
  private cached: AccessToken | undefined;

  /** Without a credential, DefaultAzureCredential is created on first use. `scope`: another data plane's (IoT Hub). */
  constructor(
    credential: TokenCredential | undefined,
    private readonly clock: Clock,
    private readonly refreshBeforeMs = 120_000,
    private readonly scope = DPS_ENTRA_SCOPE,
  ) {
    this.credential = credential;
  }

  async authorization(signal?: AbortSignal): Promise<string> {
    let token = this.cached;
    if (token === undefined || this.isStale(token)) {
      this.credential ??= loadDefaultAzureCredential();
      const fresh = await this.credential.getToken(this.scope, signal ? { abortSignal: signal } : {});
      if (!fresh) throw new Error(`the credential returned no token for the scope ${this.scope}`);
      this.cached = token = fresh;
    }
    return `Bearer ${token.token}`;
  }

  private isStale(token: AccessToken): boolean {
    const now = this.clock.now();
    if (token.refreshAfterTimestamp !== undefined && now >= token.refreshAfterTimestamp) return true;
    return now >= token.expiresOnTimestamp - this.refreshBeforeMs;
  }
}

export interface DpsAuthOptions {
  /** `HostName=...;SharedAccessKeyName=...;SharedAccessKey=...`; takes precedence over Entra. */
  connectionString?: string;
  /** DPS host name for Entra ID. */
  hostName?: string;
  credential?: TokenCredential;
}

/** The DPS host and how to authorize against it: SAS when there is a connection string, else Entra ID. */
export function authorizerFor(
  options: DpsAuthOptions,
  clock: Clock,
): { hostName: string; authorizer: DpsAuthorizer } {
  if (options.connectionString) {
    const connection = parseServiceConnectionString(options.connectionString);
    return { hostName: connection.hostName, authorizer: new SasAuthorizer(connection, clock) };
  }
  if (options.hostName) {
    return { hostName: options.hostName, authorizer: new EntraAuthorizer(options.credential, clock) };
  }
  throw new Error('DPS client needs a connectionString (SAS) or a hostName (Microsoft Entra ID)');
}
