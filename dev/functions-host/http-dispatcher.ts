import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { HttpRequest, type InvocationContext } from '@azure/functions';
import { isAuthorized, presentedKeys } from './function-keys';
import { writeEmpty, writeHandlerResult, writeJson } from './http-response';
import type { Invoker } from './invoker';
import { describeError, formatLogLine, type HostLogSink } from './log';
import { readRequestBody } from './read-body';
import type { AuthLevel, RegisteredFunction, RegisteredHttpFunction } from './registered-function';
import { compareRoutePrecedence, compileRouteTemplate, type CompiledRoute } from './route-template';
import type { TimerRunner } from './timers';

// Routes requests like the Functions host: /<routePrefix>/<route> to HTTP functions (404 when no route and
// method match, 401 for a missing/wrong key, 413 for an oversized body), POST /admin/functions/<name> to
// run a non-HTTP function, GET /admin/host/status for a health probe.

export interface HttpDispatcherOptions {
  functions: readonly RegisteredFunction[];
  routePrefix: string;
  functionKey: string;
  invoker: Invoker;
  timers: TimerRunner;
  log: HostLogSink;
  maxRequestBodyBytes: number;
  /** host[:port] for request URLs when the Host header is missing or unusable. */
  fallbackHost: string;
}

interface Route {
  fn: RegisteredHttpFunction;
  compiled: CompiledRoute;
}

const ADMIN_FUNCTION_PATH = /^\/admin\/functions\/([^/]+)\/?$/i;
const ADMIN_STATUS_PATH = /^\/admin\/host\/status\/?$/i;
const USABLE_HOST_HEADER = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

export class HttpDispatcher {
  /** Set by stop(): responses then ask clients to close their connections. */
  stopping = false;
  readonly #options: HttpDispatcherOptions;
  readonly #routes: Route[];
  readonly #inFlight = new Set<Promise<void>>();
  #fallbackHost: string;

  constructor(options: HttpDispatcherOptions) {
    this.#options = options;
    this.#fallbackHost = options.fallbackHost;
    this.#routes = options.functions
      .filter((f): f is RegisteredHttpFunction => f.kind === 'http')
      .map((fn) => {
        const compiled = compileRouteTemplate(fn.route);
        if (compiled.unknownConstraints.length > 0) {
          this.#hostLog(
            'warning',
            `Function '${fn.name}': route constraints not enforced locally: ${compiled.unknownConstraints.join(', ')}`,
          );
        }
        return { fn, compiled };
      })
      .sort((a, b) => compareRoutePrecedence(a.compiled.precedence, b.compiled.precedence));
  }

  setBaseUrl(baseUrl: string): void {
    this.#fallbackHost = new URL(baseUrl).host;
  }

  inFlight(): Promise<void>[] {
    return [...this.#inFlight];
  }

  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const work = this.#handle(req, res).catch((error: unknown) => {
      this.#hostLog('error', `Request handling failed: ${describeError(error)}`);
      if (!res.headersSent) writeJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
    this.#inFlight.add(work);
    return work.finally(() => this.#inFlight.delete(work));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', () => undefined); // a client that goes away mid-request is not a host error
    if (this.stopping) res.setHeader('connection', 'close');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    if (!rawUrl.startsWith('/')) return writeJson(res, 400, { error: 'bad request' });
    const url = URL.canParse(`http://localhost${rawUrl}`) ? new URL(`http://localhost${rawUrl}`) : undefined;
    const decodedPath = url && decodePath(url.pathname);
    if (!url || decodedPath === undefined) {
      return writeJson(res, 400, { error: 'bad request: malformed URL' });
    }

    if (decodedPath === '/' && (method === 'GET' || method === 'HEAD')) {
      res
        .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Azure Functions local host is running.\n');
      return;
    }
    const adminFunction = ADMIN_FUNCTION_PATH.exec(decodedPath);
    if (adminFunction && method === 'POST') return this.#adminInvoke(req, res, url, adminFunction[1] ?? '');
    if (ADMIN_STATUS_PATH.test(decodedPath) && method === 'GET') {
      if (!this.#authorize(req, res, url, 'admin')) return;
      return writeJson(res, 200, { state: 'Running' });
    }

    const relative = this.#relativeToPrefix(decodedPath);
    const matched = relative === undefined ? undefined : this.#match(relative, method);
    if (!matched?.route) {
      const hint = matched?.allowed ? ` (route exists for ${matched.allowed.join(', ')})` : '';
      this.#hostLog('warning', `404 ${method} ${url.pathname}${hint}`);
      return writeEmpty(res, 404);
    }
    const { fn } = matched.route;
    if (!this.#authorize(req, res, url, fn.authLevel)) return;

    const body = await readRequestBody(req, this.#options.maxRequestBodyBytes);
    if (!body.ok) {
      if (body.reason === 'too-large') {
        this.#hostLog(
          'warning',
          `413 ${method} ${url.pathname}: body larger than ${this.#options.maxRequestBodyBytes} bytes`,
        );
        writeEmpty(res, 413, { connection: 'close' });
      } else {
        res.destroy();
      }
      return;
    }

    let request: HttpRequest;
    try {
      request = new HttpRequest({
        method,
        url: `http://${this.#requestHost(req.headers)}${rawUrl}`,
        headers: flattenHeaders(req.headers),
        params: matched.params,
        body: body.body.length > 0 ? { bytes: body.body } : undefined,
      });
    } catch (error) {
      this.#hostLog('warning', `400 ${method} ${url.pathname}: ${(error as Error).message}`);
      return writeJson(res, 400, { error: 'bad request' });
    }
    const context = this.#options.invoker.createContext(fn, request.headers.get('traceparent') ?? undefined);
    await this.#invokeHttp(fn, request, context, res, `${method} ${url.pathname}`);
  }

  async #invokeHttp(
    fn: RegisteredHttpFunction,
    request: HttpRequest,
    context: InvocationContext,
    res: ServerResponse,
    what: string,
  ): Promise<void> {
    const { invoker, log } = this.#options;
    const started = performance.now();
    const summary = (outcome: string, status: number): string =>
      `Executed 'Functions.${fn.name}' (${outcome}, Id=${context.invocationId}, ` +
      `Duration=${Math.round(performance.now() - started)}ms) ${what} -> ${status}`;
    try {
      const result = await invoker.invoke(fn, [request], context);
      const written = await writeHandlerResult(res, result);
      log(formatLogLine(fn.name, 'information', summary('Succeeded', written.status)));
    } catch (error) {
      log(formatLogLine(fn.name, 'error', `${summary('Failed', 500)}: ${describeError(error)}`));
      if (res.headersSent) res.destroy();
      else writeJson(res, 500, { error: 'internal error', invocationId: context.invocationId });
    }
  }

  #adminInvoke(req: IncomingMessage, res: ServerResponse, url: URL, name: string): void {
    if (!this.#authorize(req, res, url, 'admin')) return;
    const fn = this.#options.functions.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!fn) return writeEmpty(res, 404);
    if (fn.kind !== 'timer') {
      return writeJson(res, 400, {
        error: `function '${fn.name}' is not a timer function; call its own URL`,
      });
    }
    req.resume(); // the body ({"input": ...}) means nothing to a timer
    this.#options.timers.invoke(fn.name, 'manual').catch(() => undefined); // logged by the runner
    writeEmpty(res, 202);
  }

  #authorize(req: IncomingMessage, res: ServerResponse, url: URL, authLevel: AuthLevel): boolean {
    if (isAuthorized(authLevel, this.#options.functionKey, presentedKeys(req.headers, url.searchParams)))
      return true;
    this.#hostLog('warning', `401 ${req.method ?? ''} ${url.pathname}: function key missing or wrong`);
    writeEmpty(res, 401);
    return false;
  }

  #relativeToPrefix(decodedPath: string): string | undefined {
    const prefix = this.#options.routePrefix;
    if (prefix === '') return decodedPath.slice(1);
    const lowerPath = decodedPath.toLowerCase();
    const lowerPrefix = `/${prefix.toLowerCase()}`;
    if (lowerPath === lowerPrefix) return '';
    return lowerPath.startsWith(`${lowerPrefix}/`) ? decodedPath.slice(lowerPrefix.length + 1) : undefined;
  }

  #match(
    relative: string,
    method: string,
  ): { route?: Route; params: Record<string, string>; allowed?: string[] } | undefined {
    let allowed: string[] | undefined;
    for (const route of this.#routes) {
      const params = route.compiled.match(relative);
      if (!params) continue;
      if (route.fn.methods.includes(method)) return { route, params };
      allowed = [...(allowed ?? []), ...route.fn.methods];
    }
    return allowed ? { params: {}, allowed } : undefined;
  }

  #requestHost(headers: IncomingHttpHeaders): string {
    const host = headers.host;
    return host && USABLE_HOST_HEADER.test(host) ? host : this.#fallbackHost;
  }

  #hostLog(level: string, message: string): void {
    this.#options.log(formatLogLine('host', level, message));
  }
}

/** Percent-decodes a path, keeping %2F encoded so that it cannot split a segment; undefined if malformed. */
export function decodePath(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname.replace(/%2f/gi, '%252F'));
  } catch {
    return undefined;
  }
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
