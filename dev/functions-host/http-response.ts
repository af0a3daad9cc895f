import type { ServerResponse } from 'node:http';
import { HttpResponse, type Cookie, type HttpResponseInit } from '@azure/functions';

// Turns what an HTTP handler returned into the node response, like the worker's toRpcHttp + the host:
// nothing → 204, an HttpResponseInit or HttpResponse → status, headers, cookies and the buffered body.

export interface WrittenResponse {
  status: number;
}

export async function writeHandlerResult(res: ServerResponse, result: unknown): Promise<WrittenResponse> {
  if (result === undefined || result === null) {
    res.writeHead(204).end();
    return { status: 204 };
  }
  if (typeof result !== 'object') {
    throw new TypeError(
      'The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".',
    );
  }
  const plain = plainJsonResponse(result);
  if (plain) {
    res.writeHead(plain.status, plain.headers).end(plain.body);
    return { status: plain.status };
  }
  const response = result instanceof HttpResponse ? result : new HttpResponse(result as HttpResponseInit);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: [string, string][] = [];
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers.push([name, value]);
  const setCookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
  for (const cookie of setCookies) headers.push(['set-cookie', cookie]);
  res.statusCode = response.status;
  for (const [name, value] of headers) res.appendHeader(name, value);
  res.setHeader('content-length', body.length);
  res.end(body);
  return { status: response.status };
}

/**
 * The common answer `{ status?, jsonBody | body: string, headers?: Record<string, string> }` written without the
 * web-streams round trip of HttpResponse (most of the host's CPU per request); same bytes and headers as it gives.
 */
function plainJsonResponse(
  result: object,
): { status: number; headers: Record<string, string | number>; body: string } | undefined {
  if (result instanceof HttpResponse || Object.getPrototypeOf(result) !== Object.prototype) return undefined;
  const init = result as HttpResponseInit;
  if (init.cookies !== undefined || init.enableContentNegotiation !== undefined) return undefined;
  if (init.headers !== undefined && Object.getPrototypeOf(init.headers) !== Object.prototype)
    return undefined;
  const headers: Record<string, string | number> = {};
  for (const [name, value] of Object.entries((init.headers ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string') return undefined;
    headers[name.toLowerCase()] = value;
  }
  let body: string;
  if (init.jsonBody !== undefined && init.body === undefined) {
    body = JSON.stringify(init.jsonBody);
    headers['content-type'] ??= 'application/json';
  } else if (typeof init.body === 'string' && init.jsonBody === undefined) {
    body = init.body;
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else {
    return undefined;
  }
  headers['content-length'] = Buffer.byteLength(body);
  return { status: init.status ?? 200, headers, body };
}

export function writeJson(res: ServerResponse, status: number, body: unknown, extraHeaders = {}): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...extraHeaders,
    })
    .end(text);
}

export function writeEmpty(res: ServerResponse, status: number, extraHeaders = {}): void {
  res.writeHead(status, { 'content-length': 0, ...extraHeaders }).end();
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_ATTRIBUTE = /^[^;\r\n]*$/;

/** A Set-Cookie value; the value is URL-encoded as ASP.NET's cookie collection does. */
export function serializeCookie(cookie: Cookie): string {
  if (!COOKIE_NAME.test(cookie.name)) throw new TypeError(`Invalid cookie name "${cookie.name}".`);
  const parts = [`${cookie.name}=${encodeURIComponent(cookie.value ?? '')}`];
  const attribute = (name: string, value: string): void => {
    if (!COOKIE_ATTRIBUTE.test(value)) throw new TypeError(`Invalid cookie ${name} for "${cookie.name}".`);
    parts.push(`${name}=${value}`);
  };
  if (cookie.domain) attribute('Domain', cookie.domain);
  if (cookie.path) attribute('Path', cookie.path);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${Math.floor(cookie.maxAge)}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}
