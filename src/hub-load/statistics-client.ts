// Reads IoT hubs' registry statistics (statistics.ts) over undici, with the DPS client's transport, retries and
// authorizers (src/dps): a SAS token from a hub connection string (`sr` = the hub host name), or a Microsoft Entra ID
// token for https://iothubs.azure.net (the identity needs IoT Hub Data Reader on the hub). One pool per origin.
import type { TokenCredential } from '@azure/identity';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { EntraAuthorizer, SasAuthorizer, type DpsAuthorizer } from '../dps/auth';
import { systemClock, type Clock } from '../dps/clock';
import { DpsTransientError, DpsUnauthorizedError, DpsValidationError } from '../dps/errors';
import { DpsHttp, type DpsHttpOptions, type DpsHttpResponse } from '../dps/http';
import { redactSecrets } from '../dps/redact';
import { parseRetryAfter, withRetry, type RetryOptions } from '../dps/retry';
import { responseHeader } from '../dps/response';
import { parseServiceConnectionString } from '../dps/sas';
import { endpointPool } from './endpoint-pool';
import { hubErrorFromResponse } from './hub-errors';
import { DEVICE_STATISTICS_PATH, deviceStatisticsSchema, type DeviceStatistics } from './statistics';

/** Entra scope of the IoT Hub data plane (learn.microsoft.com/azure/iot-hub/authenticate-authorize-azure-ad). */
export const IOT_HUB_ENTRA_SCOPE = 'https://iothubs.azure.net/.default';

const OPERATION = 'getDeviceStatistics';

/** A timer run reads each hub once a minute: a hub that does not answer soon is retried on the next run. */
export const HUB_STATISTICS_RETRY: RetryOptions = {
  maxAttempts: 3,
  maxElapsedMs: 20_000,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
  minThrottleDelayMs: 1_000,
};

export type HubLogger = (level: 'debug' | 'warn', message: string) => void;

export interface HubStatisticsClientOptions {
  /** Hub connection strings (SAS, a policy with RegistryRead); a hub without one is read with Entra ID. */
  connectionStrings?: readonly string[];
  /** Entra credential; DefaultAzureCredential (loaded on first use) when omitted. */
  credential?: TokenCredential;
  /** Extra CA certificate to trust, PEM (the local emulator's self-signed certificate). */
  caCertificate?: string | Buffer;
  /**
   * Where a hub's requests go, `https://host[:port]`; default `https://{hostName}`. The IoT Hub emulator serves
   * every hub on one endpoint: the Host header and the SAS resource stay the hub's host name.
   */
  originFor?: (hostName: string) => string;
  retry?: Partial<RetryOptions>;
  /** Pool size, timeouts, or a dispatcher of your own (e.g. undici MockAgent). */
  http?: Omit<DpsHttpOptions, 'origin' | 'caCertificate' | 'service'>;
  logger?: HubLogger;
  clock?: Clock;
}

export class HubStatisticsClient {
  private readonly sas = new Map<string, SasAuthorizer>();
  private entra: EntraAuthorizer | undefined;
  private readonly pools = new Map<string, DpsHttp>();
  /** Pools of endpoints serving several hubs (endpoint-pool.ts): DpsHttp does not close a pool it was given. */
  private readonly endpointPools: Dispatcher[] = [];
  private readonly clock: Clock;
  private readonly retry: RetryOptions;

  constructor(private readonly options: HubStatisticsClientOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.retry = { ...HUB_STATISTICS_RETRY, ...options.retry };
    for (const connectionString of options.connectionStrings ?? []) {
      const connection = parseServiceConnectionString(connectionString);
      this.sas.set(connection.hostName.toLowerCase(), new SasAuthorizer(connection, this.clock));
    }
  }

  /** Whether the hub is read with SAS (it has a connection string) rather than Entra ID. */
  usesSas(hostName: string): boolean {
    return this.sas.has(hostName.toLowerCase());
  }

  /** `GET /statistics/devices` of one hub, retried on 429, 5xx and network faults. */
  async deviceStatistics(hostName: string, signal?: AbortSignal): Promise<DeviceStatistics> {
    const host = hostName.toLowerCase();
    const http = this.poolFor(host);
    const authorizer = this.authorizerFor(host);
    const operation = `${OPERATION} of ${host}`;
    return withRetry(
      async (attempt) => {
        const authorization = await this.authorize(operation, authorizer, signal);
        const response = await http.send(operation, {
          method: 'GET',
          path: DEVICE_STATISTICS_PATH,
          headers: { host, authorization, accept: 'application/json', 'user-agent': 'dps-allocator' },
          signal,
        });
        this.options.logger?.('debug', `IoT Hub ${operation} -> ${response.status} (attempt ${attempt})`);
        if (response.status < 200 || response.status >= 300) {
          const retryAfterMs = parseRetryAfter(responseHeader(response, 'retry-after'), this.clock.now());
          throw hubErrorFromResponse(operation, response, retryAfterMs);
        }
        return readStatistics(operation, response);
      },
      this.retry,
      {
        clock: this.clock,
        signal,
        onRetry: (error, attempt, delayMs) =>
          this.options.logger?.(
            'warn',
            redactSecrets(
              `IoT Hub ${operation} attempt ${attempt} failed, retrying in ${delayMs} ms: ${error.message}`,
            ),
          ),
      },
    );
  }

  /** Closes the connection pools. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    const endpoints = this.endpointPools.splice(0);
    this.pools.clear();
    await Promise.all([...pools.map((pool) => pool.close()), ...endpoints.map((pool) => pool.close())]);
  }

  private poolFor(host: string): DpsHttp {
    const origin = this.options.originFor?.(host) ?? `https://${host}`;
    let pool = this.pools.get(origin);
    if (!pool) {
      const tuning = {
        connections: 4,
        headersTimeoutMs: 10_000,
        bodyTimeoutMs: 10_000,
        connectTimeoutMs: 5_000,
        keepAliveTimeoutMs: 30_000,
        ...this.options.http,
      };
      const { caCertificate } = this.options;
      const sharedEndpoint = new URL(origin).hostname !== host && tuning.dispatcher === undefined;
      const dispatcher = sharedEndpoint
        ? endpointPool(origin, { ...tuning, caCertificate })
        : tuning.dispatcher;
      if (sharedEndpoint) this.endpointPools.push(dispatcher!);
      pool = new DpsHttp({ ...tuning, dispatcher, origin, caCertificate, service: 'IoT Hub' });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  private authorizerFor(host: string): DpsAuthorizer {
    const sas = this.sas.get(host);
    if (sas) return sas;
    this.entra ??= new EntraAuthorizer(this.options.credential, this.clock, 120_000, IOT_HUB_ENTRA_SCOPE);
    return this.entra;
  }

  private async authorize(
    operation: string,
    authorizer: DpsAuthorizer,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    try {
      return await authorizer.authorization(signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new DpsUnauthorizedError(`IoT Hub ${operation}: no access token (${reason})`, {
        operation,
        cause: error,
      });
    }
  }
}

/** The statistics of a 2xx answer; a cut-off body is worth another attempt, a body of another shape is not. */
function readStatistics(operation: string, response: DpsHttpResponse): DeviceStatistics {
  let json: unknown;
  try {
    json = JSON.parse(response.bodyText);
  } catch {
    throw new DpsTransientError(`IoT Hub ${operation} returned HTTP ${response.status} with invalid JSON`, {
      operation,
      status: response.status,
      retryable: true,
    });
  }
  const parsed = deviceStatisticsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new DpsValidationError(
    `IoT Hub ${operation} returned no registry statistics: ${z.prettifyError(parsed.error).slice(0, 300)}`,
    { operation, status: response.status },
  );
}
