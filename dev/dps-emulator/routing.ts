// What the HTTP layer hands to the API modules, and small request helpers shared by both APIs.
import type { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { DeviceIdentity } from './device-api';
import { badRequest, EmulatorHttpError, ErrorCodes } from './errors';

/**
 * The identity a device proved for a whole connection (MQTT: at CONNECT). `current` gives it back for a request of
 * that device while authenticating the request would give the same identity, and undefined otherwise (the request
 * is then authenticated as over HTTPS).
 */
export interface ConnectionIdentity {
  current(idScopeSegment: string, registrationId: string): DeviceIdentity | undefined;
}

export interface RequestContext {
  method: string;
  /** The URL path, still percent-encoded. */
  path: string;
  /** Path segments, still percent-encoded. */
  segments: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The TLS client certificate chain, device certificate first (empty: none). */
  clientCertificates: readonly X509Certificate[];
  /** Set on the requests of a connection that authenticated once (MQTT); HTTPS requests carry none. */
  connectionIdentity?: ConnectionIdentity;
  /** The device transport, as DPS's resource logs name it; default `Http`. */
  protocol?: 'Http' | 'Mqtt';
}

export interface HttpAnswer {
  status: number;
  /** Serialised as JSON when present. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteMatch {
  /** Stable name used in stats and fault plans, e.g. `service.registrations.query`. */
  name: string;
  api: 'service' | 'device';
  handle: (context: RequestContext) => Promise<HttpAnswer> | HttpAnswer;
}

/**
 * api-versions the emulator answers: the Node device SDK still sends 2019-03-31 (docs/dps-contract.md §4).
 */
export const SUPPORTED_API_VERSIONS = ['2018-09-01-preview', '2019-03-31', '2021-06-01', '2021-10-01'];

export function requireApiVersion(context: RequestContext): void {
  const version = context.query.get('api-version');
  if (!version) throw badRequest('The api-version query parameter is required');
  if (!SUPPORTED_API_VERSIONS.includes(version)) {
    throw badRequest(`api-version '${version.slice(0, 40)}' is not supported`);
  }
}

export function headerValue(context: RequestContext, name: string): string | undefined {
  const value = context.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The JSON body; undefined when empty and `optional`. Malformed JSON is a 400, never a 500. */
export function jsonBody(context: RequestContext, optional = false): unknown {
  const text = context.body.toString('utf8').trim();
  if (text === '') {
    if (optional) return undefined;
    throw badRequest('A JSON request body is required');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
}

/** A route whose path exists but not with this method. */
export function methodNotAllowed(name: string, api: 'service' | 'device', allowed: string[]): RouteMatch {
  return {
    name,
    api,
    handle: () => {
      throw new EmulatorHttpError(
        405,
        ErrorCodes.methodNotAllowed,
        `Method not allowed; use ${allowed.join(', ')}`,
        {
          allow: allowed.join(', '),
        },
      );
    },
  };
}

export function literal(segment: string | undefined, expected: string): boolean {
  return segment !== undefined && segment.toLowerCase() === expected.toLowerCase();
}
