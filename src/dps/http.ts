// One HTTP exchange with DPS over a keep-alive undici pool; network faults become typed errors.
import { Pool, type Dispatcher } from 'undici';
import { DpsError, DpsTransientError } from './errors';
import { keepWebAssemblyOnBaselineCompiler } from './wasm-tiering';

export interface DpsHttpOptions {
  /** `https://host[:port]`. */
  origin: string;
  /** Names the service in error messages; default `DPS` (the hub-load client sends to IoT hubs). */
  service?: string;
  /** Extra CA certificate(s) to trust, PEM (e.g. the local DPS emulator's self-signed certificate). */
  caCertificate?: string | Buffer;
  /** Most sockets the pool opens to DPS. */
  connections?: number;
  /** Time allowed for the response headers to arrive. */
  headersTimeoutMs?: number;
  /** Time allowed between two chunks of the response body. */
  bodyTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this long. */
  keepAliveTimeoutMs?: number;
  /** Use this dispatcher (e.g. undici MockAgent) instead of a pool of our own; it is not closed by `close`. */
  dispatcher?: Dispatcher;
}

export interface DpsHttpRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query string. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface DpsHttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bodyText: string;
}

// Faults worth another attempt: resets, refusals, timeouts, cut-off or malformed responses.
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Wraps a failed exchange: transient for network faults, a plain DpsError (no retry) for TLS or setup errors. */
export function networkError(operation: string, error: unknown, service = 'DPS'): DpsError {
  const code = errorCodeOf(error) ?? 'unknown';
  const reason = error instanceof Error ? error.message : String(error);
  const message = `${service} ${operation} failed: ${code} (${reason})`;
  if (RETRYABLE_NETWORK_CODES.has(code) || code.startsWith('HPE_')) {
    return new DpsTransientError(message, { operation, retryable: true, cause: error });
  }
  return new DpsError(message, { operation, cause: error });
}

/** `https://{hostName}`; the host name may carry a port (`127.0.0.1:8443`) but nothing else. */
export function originForHost(hostName: string): string {
  let url: URL | undefined;
  try {
    url = new URL(`https://${hostName}`);
  } catch {
    url = undefined;
  }
  const hostOnly = url && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  if (!url || !hostOnly || hostName.includes('/')) {
    throw new Error(
      'DPS host name must be a host with an optional port, e.g. mydps.azure-devices-provisioning.net',
    );
  }
  return url.origin;
}

/** Sends requests to one DPS origin and reads whole responses. */
export class DpsHttp {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly headersTimeoutMs: number;
  private readonly bodyTimeoutMs: number;

  constructor(private readonly options: DpsHttpOptions) {
    this.headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
    this.bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
    this.ownsDispatcher = options.dispatcher === undefined;
    if (this.ownsDispatcher) keepWebAssemblyOnBaselineCompiler();
    this.dispatcher =
      options.dispatcher ??
      new Pool(options.origin, {
        connections: options.connections ?? 8,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
        connect: {
          timeout: options.connectTimeoutMs ?? 10_000,
          ...(options.caCertificate === undefined ? {} : { ca: options.caCertificate }),
        },
      });
  }

  /** One exchange; the body is read completely. Network faults throw DpsTransientError or DpsError. */
  async send(operation: string, request: DpsHttpRequest): Promise<DpsHttpResponse> {
    try {
      const response = await this.dispatcher.request({
        origin: this.options.origin,
        path: request.path,
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: request.signal,
        headersTimeout: this.headersTimeoutMs,
        bodyTimeout: this.bodyTimeoutMs,
      });
      const bodyText = await response.body.text();
      return { status: response.statusCode, headers: response.headers, bodyText };
    } catch (error) {
      if (request.signal?.aborted) throw error; // the caller cancelled: not a DPS fault
      throw networkError(operation, error, this.options.service);
    }
  }

  /** Closes the pool's sockets (only a pool this instance created). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}
