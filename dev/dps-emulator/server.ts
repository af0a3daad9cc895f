// The HTTPS server (and dispatch, which the MQTT endpoint shares): one port for both APIs (their paths do not collide: service paths start with
// /enrollmentGroups, /enrollments or /registrations, device paths with /{idScope}/registrations). Reads
// bodies with a size limit, applies the fault plan, turns errors into DPS error bodies, and never answers
// malformed input with a 500 or a stack trace.
import type { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { EmulatorHttpError, ErrorCodes } from './errors';
import type { FaultDecision, FaultInjector } from './faults';
import { CLIENT_CERTIFICATE_REQUEST, peerCertificates } from './peer-certificates';
import type { HttpAnswer, RequestContext, RouteMatch } from './routing';
import type { StatsRecorder } from './stats';

export interface ServerDeps {
  match: (method: string, segments: string[]) => RouteMatch | undefined;
  stats: StatsRecorder;
  faults: () => FaultInjector | undefined;
  sleep: (ms: number) => Promise<void>;
  /** Request log (method, path without query, status); never headers or bodies. */
  log?: (line: string) => void;
  maxBodyBytes: number;
  /** Device API bodies (and MQTT messages): DPS's documented message limit by default. */
  maxDeviceBodyBytes: number;
}

export class BodyTooLargeError extends Error {}

/** The request body, or BodyTooLargeError past `maxBytes` (the rest is drained); the IoT Hub emulator reads with it too. */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function errorAnswer(error: EmulatorHttpError): HttpAnswer {
  return {
    status: error.status,
    body: error.toBody(),
    headers: { ...error.headers, 'x-ms-error-code': String(error.errorCode) },
  };
}

function faultAnswer(decision: FaultDecision): HttpAnswer | undefined {
  switch (decision.fault) {
    case 'throttle':
      return errorAnswer(
        new EmulatorHttpError(429, ErrorCodes.throttled, 'Too many requests (fault plan)', {
          'retry-after': String(decision.retryAfterSeconds),
        }),
      );
    case 'serverError':
      return errorAnswer(
        new EmulatorHttpError(500, ErrorCodes.internalServerError, 'Internal error (fault plan)'),
      );
    case 'unavailable':
      return errorAnswer(
        new EmulatorHttpError(503, ErrorCodes.serviceUnavailable, 'Service unavailable (fault plan)'),
      );
    default:
      return undefined;
  }
}

/** A JSON answer's headers (content type and length) and bytes; also used by the other emulators. */
export function jsonAnswerParts(answer: { body?: unknown; headers?: Record<string, string> }): {
  headers: Record<string, string>;
  payload: Buffer | undefined;
} {
  const headers: Record<string, string> = { ...answer.headers };
  let payload: Buffer | undefined;
  if (answer.body !== undefined) {
    payload = Buffer.from(JSON.stringify(answer.body), 'utf8');
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(payload?.length ?? 0);
  return { headers, payload };
}

/** Sends a JSON answer whole. */
export function sendJsonAnswer(
  response: ServerResponse,
  answer: { status: number; body?: unknown; headers?: Record<string, string> },
): void {
  const { headers, payload } = jsonAnswerParts(answer);
  response.writeHead(answer.status, headers);
  response.end(payload);
}

function send(response: ServerResponse, answer: HttpAnswer, truncate: boolean): void {
  if (!truncate) return sendJsonAnswer(response, answer);
  // Promise the whole body, send half of it, then drop the connection.
  const { headers, payload } = jsonAnswerParts(answer);
  response.writeHead(answer.status, headers);
  const half = payload ? payload.subarray(0, Math.floor(payload.length / 2)) : Buffer.alloc(0);
  response.write(half, () => response.socket?.destroy());
}

/** A request to either API, whatever carried it (HTTPS, or MQTT mapped onto the device API's paths). */
export interface DispatchRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  /** Read only once the fault plan has not dropped the request; fails with BodyTooLargeError past `maxBytes`. */
  readBody: (maxBytes: number) => Promise<Buffer>;
  /** The device's TLS client certificate chain (empty: none). */
  clientCertificates: readonly X509Certificate[];
  /** `Mqtt` for requests the MQTT endpoint publishes; default `Http`. */
  protocol?: 'Http' | 'Mqtt';
}

/** The answer, or none when the fault plan resets the connection; `truncate` asks for half an answer. */
export interface Dispatched {
  answer: HttpAnswer | undefined;
  truncate: boolean;
}

/** Routes a request, applies the fault plan, and turns every error into a DPS error answer (never a stack). */
export async function dispatch(deps: ServerDeps, request: DispatchRequest): Promise<Dispatched> {
  const { method, url } = request;
  const segments = url.pathname.split('/').slice(1);
  const route = deps.match(method, segments);
  deps.stats.call(route?.name ?? 'unknown');

  const decision = route ? deps.faults()?.decide(route.api, route.name) : undefined;
  if (decision?.fault) deps.stats.fault(decision.fault);
  if (decision?.fault === 'reset') return { answer: undefined, truncate: false };
  if (decision && decision.delayMs > 0) await deps.sleep(decision.delayMs);

  const limit = route?.api === 'device' ? deps.maxDeviceBodyBytes : deps.maxBodyBytes;
  let answer: HttpAnswer;
  try {
    const body = await request.readBody(limit);
    const injected = decision ? faultAnswer(decision) : undefined;
    if (injected) answer = injected;
    else if (!route) {
      throw new EmulatorHttpError(
        404,
        ErrorCodes.routeNotFound,
        `No such resource: ${method} ${url.pathname.slice(0, 200)}`,
      );
    } else {
      const context: RequestContext = {
        method,
        path: url.pathname,
        segments,
        query: url.searchParams,
        headers: request.headers,
        body,
        clientCertificates: request.clientCertificates,
        protocol: request.protocol,
      };
      answer = await route.handle(context);
    }
  } catch (error) {
    if (error instanceof EmulatorHttpError) answer = errorAnswer(error);
    else if (error instanceof BodyTooLargeError) {
      answer = errorAnswer(
        new EmulatorHttpError(413, ErrorCodes.payloadTooLarge, `The request body exceeds ${limit} bytes`),
      );
    } else {
      deps.log?.(`internal error on ${method} ${url.pathname}: ${(error as Error).message}`);
      answer = errorAnswer(
        new EmulatorHttpError(500, ErrorCodes.internalServerError, 'Internal error in the emulator'),
      );
    }
  }
  deps.stats.status(answer.status);
  return { answer, truncate: decision?.fault === 'truncate' };
}

export function createEmulatorServer(
  tls: { certPem: string; keyPem: string },
  deps: ServerDeps,
): https.Server {
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = (request.method ?? 'GET').toUpperCase();
    const url = new URL(request.url ?? '/', 'https://emulator.invalid');
    const { answer, truncate } = await dispatch(deps, {
      method,
      url,
      headers: request.headers,
      readBody: (maxBytes) => readBody(request, maxBytes),
      clientCertificates: peerCertificates(request.socket as TLSSocket),
    });
    if (!answer) {
      request.socket.destroy();
      return;
    }
    deps.log?.(`${method} ${url.pathname} -> ${answer.status}`);
    if (response.destroyed) return;
    send(response, answer, truncate);
  };

  const options = { key: tls.keyPem, cert: tls.certPem, ...CLIENT_CERTIFICATE_REQUEST };
  const server = https.createServer(options, (request, response) => {
    handle(request, response).catch((error: Error) => {
      deps.log?.(`unexpected failure: ${error.message}`);
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        response.end(
          JSON.stringify({ errorCode: ErrorCodes.internalServerError, message: 'Internal error' }),
        );
      } else response.destroy();
    });
  });
  // A client that opens TLS and goes away must not leave errors unhandled.
  server.on('tlsClientError', () => undefined);
  return server;
}
