// The IoT Hub service API routes the official azure-iothub Registry uses (api-version 2021-04-12,
// https://learn.microsoft.com/rest/api/iothub/service/devices): device identities, twins, registry statistics and
// the device query, each checked against the rights of the caller's shared access policy.
import type { IncomingHttpHeaders } from 'node:http';
import { decodeContinuationToken, encodeContinuationToken } from '../dps-emulator/sorted-keys';
import type { HubRight } from './auth';
import { authorizeHubCall } from './auth';
import { parseIdentityWrite } from './device-input';
import { deviceNotFound, hubBadRequest, HubErrorCodes, HubHttpError } from './errors';
import type { EmulatedHub } from './hubs';
import { decodeSegment, quoted } from './identifiers';
import { parseDeviceQuery } from './query';

export interface HubRequest {
  method: string;
  /** Path segments after the first `/`, still percent-encoded; a trailing empty segment is dropped. */
  segments: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  nowSeconds: number;
}

export interface HubAnswer {
  status: number;
  /** Serialised as JSON when present. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** The Node SDK's version first (azure-iothub 1.16.6); the others are the REST reference's recent ones. */
export const HUB_API_VERSIONS = ['2021-04-12', '2020-09-30', '2021-11-30'];

/** Page size of `SELECT * FROM devices` without `x-ms-max-item-count`, and the most a page holds (emulator's). */
export const QUERY_PAGE = { defaultSize: 100, maxSize: 1000 };

/** `GET /devices` returns at most this many identities (the `top` parameter's documented maximum). */
const LIST_MAX = 1000;

function header(request: HubRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? undefined : first;
}

function jsonBody(request: HubRequest): unknown {
  const text = request.body.toString('utf8').trim();
  if (text === '') throw hubBadRequest('A JSON request body is required');
  try {
    return JSON.parse(text);
  } catch {
    throw hubBadRequest('The request body is not valid JSON');
  }
}

function requireApiVersion(request: HubRequest): void {
  const version = request.query.get('api-version');
  if (!version) throw new HubHttpError(400, HubErrorCodes.invalidProtocolVersion, 'api-version is required');
  if (!HUB_API_VERSIONS.includes(version)) {
    throw new HubHttpError(
      400,
      HubErrorCodes.invalidProtocolVersion,
      `api-version '${version.slice(0, 40)}' is not supported (use ${HUB_API_VERSIONS.join(', ')})`,
    );
  }
}

function methodNotAllowed(allowed: string[]): HubHttpError {
  return new HubHttpError(
    405,
    HubErrorCodes.methodNotAllowed,
    `Method not allowed; use ${allowed.join(', ')}`,
  );
}

type Handler = (hub: EmulatedHub, request: HubRequest, authorize: (right: HubRight) => void) => HubAnswer;

/** The handler of a path and method, or an error answer naming what exists. */
function route(request: HubRequest): Handler {
  const [first, second] = request.segments.map((segment) => segment.toLowerCase());
  const { method, segments } = request;
  const allow = (handlers: Record<string, Handler>): Handler => {
    const handler = handlers[method];
    if (!handler) throw methodNotAllowed(Object.keys(handlers));
    return handler;
  };
  if (first === 'statistics' && second === 'devices' && segments.length === 2)
    return allow({ GET: statistics });
  if (first === 'devices' && segments.length === 1) return allow({ GET: listDevices });
  if (first === 'devices' && second === 'query' && segments.length === 2 && method === 'POST')
    return queryDevices;
  if (first === 'devices' && segments.length === 2)
    return allow({ GET: getDevice, PUT: putDevice, DELETE: deleteDevice });
  if (first === 'twins' && segments.length === 2)
    return allow({ GET: getTwin, PATCH: patchTwin, PUT: replaceTwin });
  throw new HubHttpError(
    404,
    HubErrorCodes.notFound,
    `The emulator has no ${method} /${segments.join('/').slice(0, 200)} (devices, twins, statistics and query only)`,
  );
}

/** Answers one request to `hub`; every failure is an HubHttpError for the caller to present. */
export function handleHubRequest(hub: EmulatedHub, request: HubRequest): HubAnswer {
  const handler = route(request);
  requireApiVersion(request);
  const path = `/${request.segments.join('/')}`;
  const authorize = (right: HubRight) => {
    authorizeHubCall(header(request, 'authorization'), request.method, path, right, hub, request.nowSeconds);
  };
  return handler(hub, request, authorize);
}

function deviceIdOf(request: HubRequest): string {
  return decodeSegment(request.segments[1]!, 'The device id');
}

const statistics: Handler = (hub, _request, authorize) => {
  authorize('RegistryRead');
  return { status: 200, body: hub.registry.statistics() };
};

const listDevices: Handler = (hub, request, authorize) => {
  authorize('RegistryRead');
  const top = request.query.get('top');
  if (top !== null && (!/^\d+$/.test(top) || Number(top) < 1 || Number(top) > LIST_MAX)) {
    throw hubBadRequest(`top must be an integer from 1 to ${LIST_MAX}`);
  }
  return { status: 200, body: hub.registry.list(top === null ? LIST_MAX : Number(top)) };
};

const getDevice: Handler = (hub, request, authorize) => {
  authorize('RegistryRead');
  const deviceId = deviceIdOf(request);
  const device = hub.registry.getDevice(deviceId);
  if (!device) throw deviceNotFound(deviceId);
  return { status: 200, body: device, headers: { etag: quoted(device.etag) } };
};

const putDevice: Handler = (hub, request, authorize) => {
  authorize('RegistryWrite');
  const deviceId = deviceIdOf(request);
  const write = parseIdentityWrite(jsonBody(request), deviceId);
  const device = hub.registry.writeIdentity(deviceId, write, header(request, 'if-match'));
  return { status: 200, body: device, headers: { etag: quoted(device.etag) } };
};

const deleteDevice: Handler = (hub, request, authorize) => {
  authorize('RegistryWrite');
  const deviceId = deviceIdOf(request);
  if (!hub.registry.deleteDevice(deviceId, header(request, 'if-match'))) throw deviceNotFound(deviceId);
  return { status: 204 };
};

const getTwin: Handler = (hub, request, authorize) => {
  authorize('RegistryRead');
  const deviceId = deviceIdOf(request);
  const twin = hub.registry.getTwin(deviceId);
  if (!twin) throw deviceNotFound(deviceId);
  return { status: 200, body: twin, headers: { etag: quoted(twin.etag) } };
};

const patchTwin: Handler = (hub, request, authorize) => {
  authorize('RegistryWrite');
  const twin = hub.registry.updateTwin(deviceIdOf(request), jsonBody(request), header(request, 'if-match'));
  return { status: 200, body: twin, headers: { etag: quoted(twin.etag) } };
};

const replaceTwin: Handler = (hub, request, authorize) => {
  authorize('RegistryWrite');
  const twin = hub.registry.replaceTwin(deviceIdOf(request), jsonBody(request), header(request, 'if-match'));
  return { status: 200, body: twin, headers: { etag: quoted(twin.etag) } };
};

const queryDevices: Handler = (hub, request, authorize) => {
  authorize('RegistryRead');
  const query = parseDeviceQuery(jsonBody(request));
  if (query.kind === 'count') {
    return { status: 200, body: [{ [query.alias]: hub.registry.size }] };
  }
  const sizeHeader = header(request, 'x-ms-max-item-count');
  if (sizeHeader !== undefined && (!/^\d+$/.test(sizeHeader.trim()) || Number(sizeHeader) < 1)) {
    throw hubBadRequest('x-ms-max-item-count must be a positive integer');
  }
  const limit = Math.min(
    sizeHeader === undefined ? QUERY_PAGE.defaultSize : Number(sizeHeader),
    QUERY_PAGE.maxSize,
  );
  const token = header(request, 'x-ms-continuation');
  let after: string | undefined;
  try {
    after = token === undefined ? undefined : decodeContinuationToken(token);
  } catch {
    throw hubBadRequest('x-ms-continuation is not a continuation token issued by this hub');
  }
  const page = hub.registry.pageTwins(after, limit);
  const last = page.twins.at(-1);
  const headers: Record<string, string> = {};
  if (page.hasMore && last) headers['x-ms-continuation'] = encodeContinuationToken(last.deviceId);
  return { status: 200, body: page.twins, headers };
};
