// The one HTTPS server of every emulated hub, on 127.0.0.1: the hub is the one the Host header names (the SDKs send
// the hub's host name, e.g. `contoso-hub-1.azure-devices.net`). A client that can only send the emulator's own
// address (`127.0.0.1:PORT`) reaches the hub its token's `sr` names. Bodies are read with a size limit, every
// failure is an IoT Hub error answer, and the log says method, hub, path and status, never headers or bodies.
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { parseSasToken } from '../../src/dps/sas';
import { BodyTooLargeError, readBody, sendJsonAnswer as send } from '../dps-emulator/server';
import { HubErrorCodes, HubHttpError } from './errors';
import type { EmulatedHub, IotHubs } from './hubs';
import type { HubAnswer } from './service-api';
import { handleHubRequest } from './service-api';

export interface HubServerDeps {
  hubs: IotHubs;
  log?: (line: string) => void;
  maxBodyBytes: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The hub a request is for: its Host header's, else (Host the emulator's address) its token's `sr`. */
function hubOf(request: IncomingMessage, hubs: IotHubs): EmulatedHub {
  const host = (request.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  const named = hubs.find(host);
  if (named) return named;
  if (LOOPBACK_HOSTS.has(host)) {
    const token = parseSasToken(request.headers.authorization);
    const resource = token?.resource
      .toLowerCase()
      .replace(/^https?:\/\//, '')
      .split('/', 1)[0];
    const byToken = resource === undefined ? undefined : hubs.find(resource);
    if (byToken) return byToken;
  }
  throw new HubHttpError(
    404,
    HubErrorCodes.iotHubNotFound,
    `IoT hub '${host.slice(0, 253)}' does not exist in the emulator (hubs: ${hubs.hostNames().join(', ')})`,
  );
}

function errorAnswer(error: HubHttpError): HubAnswer {
  return { status: error.status, body: error.toBody(), headers: { 'iothub-errorcode': error.code } };
}

async function answer(
  request: IncomingMessage,
  deps: HubServerDeps,
): Promise<{ answer: HubAnswer; hub: string }> {
  const method = (request.method ?? 'GET').toUpperCase();
  const url = new URL(request.url ?? '/', 'https://hub.invalid');
  let hubName = '?';
  try {
    const hub = hubOf(request, deps.hubs);
    hubName = hub.hostName;
    const body = await readBody(request, deps.maxBodyBytes);
    const segments = url.pathname.split('/').slice(1);
    if (segments.length > 1 && segments.at(-1) === '') segments.pop();
    const nowSeconds = Math.floor(Date.now() / 1000);
    return {
      answer: handleHubRequest(hub, {
        method,
        segments,
        query: url.searchParams,
        headers: request.headers,
        body,
        nowSeconds,
      }),
      hub: hubName,
    };
  } catch (error) {
    if (error instanceof HubHttpError) return { answer: errorAnswer(error), hub: hubName };
    if (error instanceof BodyTooLargeError) {
      const tooLarge = new HubHttpError(
        413,
        HubErrorCodes.requestTooLarge,
        `The request body exceeds ${deps.maxBodyBytes} bytes`,
      );
      return { answer: errorAnswer(tooLarge), hub: hubName };
    }
    deps.log?.(`hub internal error on ${method} ${url.pathname}: ${(error as Error).message}`);
    return {
      answer: errorAnswer(new HubHttpError(500, HubErrorCodes.serverError, 'Internal error in the emulator')),
      hub: hubName,
    };
  }
}

export function createHubServer(tls: { certPem: string; keyPem: string }, deps: HubServerDeps): https.Server {
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (request, response) => {
    answer(request, deps)
      .then(({ answer: result, hub }) => {
        deps.log?.(
          `hub ${hub} ${request.method ?? 'GET'} ${(request.url ?? '/').split('?', 1)[0]} -> ${result.status}`,
        );
        if (!response.destroyed) send(response, result);
      })
      .catch((error: Error) => {
        deps.log?.(`hub unexpected failure: ${error.message}`);
        if (!response.headersSent) response.writeHead(500).end();
        else response.destroy();
      });
  });
  // A client that opens TLS and goes away must not leave errors unhandled.
  server.on('tlsClientError', () => undefined);
  return server;
}
