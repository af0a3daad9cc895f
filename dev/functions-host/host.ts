import http from 'node:http';
import path from 'node:path';
import { registryOf } from './core-stub';
import { resolveFunctionKey } from './function-keys';
import { DEFAULT_ROUTE_PREFIX, normalizeRoutePrefix, readRoutePrefix } from './host-json';
import { runAppHooks, type AppHookData } from './hooks';
import { HttpDispatcher } from './http-dispatcher';
import { Invoker } from './invoker';
import { acquireFunctionsCoreStub, listFunctionFiles, loadFunctionFiles } from './load-functions';
import { applyLocalSettings } from './local-settings';
import { formatLogLine, stdoutLogSink, type HostLogSink } from './log';
import { DEFAULT_MAX_BODY_BYTES } from './read-body';
import {
  unsupportedBindings,
  type RegisteredFunction,
  type RegisteredHttpFunction,
  type RegisteredTimerFunction,
} from './registered-function';
import { settleWithin, TimerRunner } from './timers';

export const DEFAULT_PORT = 7071;
export const DEFAULT_HOST = '127.0.0.1';
/** How long stop() lets running invocations finish before closing their connections. */
const STOP_GRACE_MS = 2000;

export interface FunctionsHostOptions {
  /** Function files to load (compiled .js, or .ts under ts-jest). Give this or `functionsDir`. */
  functionFiles?: readonly string[];
  /** Every function file directly in this folder, e.g. dist/src/functions. */
  functionsDir?: string;
  /** Default: local.settings.json Host.LocalHttpPort, else 7071. 0 picks an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Key for 'function'/'admin' functions. Default: app setting LOCAL_FUNCTION_KEY. '' turns the check off. */
  functionKey?: string;
  /** Run timer functions on their schedules (and runOnStartup). Default true. invokeTimer works either way. */
  enableTimers?: boolean;
  /** Receives every log line (function logs, invocations, host messages). Default: stdout. */
  log?: HostLogSink;
  /** Folder holding local.settings.json and host.json; both are optional. Not read when omitted. */
  appRoot?: string;
  /**
   * App settings the host reads (LOCAL_FUNCTION_KEY, %SETTING% schedules, WEBSITE_TIME_ZONE), and where
   * local.settings.json Values go. Default process.env. Function code always reads process.env.
   */
  env?: NodeJS.ProcessEnv;
  /** Default: host.json extensions.http.routePrefix, else 'api'. */
  routePrefix?: string;
  /** Larger request bodies get 413. Default 100 MB, as on Azure. */
  maxRequestBodyBytes?: number;
}

export interface FunctionsHost {
  /** e.g. http://127.0.0.1:7071 */
  readonly baseUrl: string;
  readonly port: number;
  readonly routePrefix: string;
  readonly functions: readonly RegisteredFunction[];
  /** Whether 'function'/'admin' functions require a key. */
  readonly functionKeyRequired: boolean;
  readonly timersEnabled: boolean;
  /** The URL of an HTTP function, with its route template as registered (e.g. .../api/devices/{id}). */
  functionUrl(name: string): string;
  /** Runs a timer function now; rejects with the handler's error. */
  invokeTimer(name: string): Promise<void>;
  /** Stops timers and the server, including keep-alive connections. Idempotent. */
  stop(): Promise<void>;
}

export async function startFunctionsHost(options: FunctionsHostOptions): Promise<FunctionsHost> {
  const env = options.env ?? process.env;
  const log = options.log ?? stdoutLogSink;
  const hostLog = (level: string, message: string): void => log(formatLogLine('host', level, message));

  const app = readAppFiles(options, env, hostLog);
  const routePrefix = app.routePrefix;

  const files = functionFilesOf(options);
  const stub = acquireFunctionsCoreStub();
  const registry = registryOf(stub);
  const systemLogs = registry.onSystemLog((level, _category, message) => {
    if (level !== 'trace' && level !== 'debug' && level !== 'none') hostLog(level, message);
  });
  try {
    const functions = loadFunctionFiles(files, stub);
    for (const fn of functions) {
      if (fn.kind === 'other') {
        hostLog('warning', `Function '${fn.name}': ${fn.triggerType} is not run by this host`);
      }
      const extra = unsupportedBindings(fn);
      if (extra.length > 0) {
        hostLog('warning', `Function '${fn.name}': bindings not emulated: ${extra.join(', ')}`);
      }
    }

    const appHookData: AppHookData = {};
    const invoker = new Invoker(registry, appHookData, log);
    const timersEnabled = options.enableTimers ?? true;
    const timerFunctions = functions.filter((f): f is RegisteredTimerFunction => f.kind === 'timer');
    const timers = new TimerRunner(timerFunctions, { env, enabled: timersEnabled, invoker, log });
    const functionKey = resolveFunctionKey(options.functionKey, env);
    const listenHost = options.host ?? DEFAULT_HOST;
    const dispatcher = new HttpDispatcher({
      functions,
      routePrefix,
      functionKey,
      invoker,
      timers,
      log,
      maxRequestBodyBytes: options.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      fallbackHost: urlHost(listenHost),
    });

    const server = http.createServer((req, res) => void dispatcher.handle(req, res));
    const port = await listen(server, options.port ?? app.localHttpPort ?? DEFAULT_PORT, listenHost);
    const baseUrl = `http://${urlHost(listenHost)}:${port}`;
    dispatcher.setBaseUrl(baseUrl);
    const functionAppDirectory = path.resolve(options.appRoot ?? path.dirname(files[0] ?? '.'));

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        dispatcher.stopping = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.all([timers.stop(STOP_GRACE_MS), settleWithin(dispatcher.inFlight(), STOP_GRACE_MS)]);
        server.closeAllConnections();
        await closed;
        try {
          await runAppHooks(registry, 'appTerminate', appHookData, functionAppDirectory);
        } finally {
          systemLogs.dispose();
        }
      })();
      return stopping;
    };

    try {
      await runAppHooks(registry, 'appStart', appHookData, functionAppDirectory);
      timers.start();
    } catch (error) {
      await stop().catch(() => undefined);
      throw error;
    }
    hostLog('information', `Functions host listening on ${baseUrl} (${functions.length} function(s))`);

    return {
      baseUrl,
      port,
      routePrefix,
      functions,
      functionKeyRequired: functionKey !== '',
      timersEnabled,
      functionUrl: (name) => functionUrl(baseUrl, routePrefix, httpFunctionNamed(functions, name)),
      invokeTimer: (name) => timers.invoke(name),
      stop,
    };
  } catch (error) {
    systemLogs.dispose();
    throw error;
  }
}

/** local.settings.json (applied to `env`) and host.json from appRoot, when given. */
function readAppFiles(
  options: FunctionsHostOptions,
  env: NodeJS.ProcessEnv,
  hostLog: (level: string, message: string) => void,
): { routePrefix: string; localHttpPort: number | undefined } {
  const explicitPrefix =
    options.routePrefix === undefined ? undefined : normalizeRoutePrefix(options.routePrefix);
  if (options.appRoot === undefined)
    return { routePrefix: explicitPrefix ?? DEFAULT_ROUTE_PREFIX, localHttpPort: undefined };
  const settings = applyLocalSettings(path.join(options.appRoot, 'local.settings.json'), env);
  if (settings.file) {
    hostLog('information', `Loaded ${settings.file}: set ${settings.applied.length} setting(s)`);
    for (const name of settings.skipped) {
      hostLog('information', `Skipping '${name}' from local.settings.json: already set in the environment`);
    }
  }
  return {
    routePrefix: explicitPrefix ?? readRoutePrefix(path.join(options.appRoot, 'host.json')),
    localHttpPort: settings.localHttpPort,
  };
}

function functionFilesOf(options: FunctionsHostOptions): string[] {
  if (options.functionFiles && options.functionsDir) {
    throw new Error('Give either functionFiles or functionsDir, not both.');
  }
  if (options.functionFiles) {
    if (options.functionFiles.length === 0) throw new Error('functionFiles is empty.');
    return [...options.functionFiles];
  }
  if (options.functionsDir) {
    const files = listFunctionFiles(options.functionsDir);
    if (files.length === 0) {
      throw new Error(`No function files (.js or .ts) in ${path.resolve(options.functionsDir)}.`);
    }
    return files;
  }
  throw new Error('startFunctionsHost needs functionFiles or functionsDir.');
}

function httpFunctionNamed(functions: readonly RegisteredFunction[], name: string): RegisteredHttpFunction {
  const fn = functions.find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (!fn || fn.kind !== 'http') throw new Error(`No HTTP function named "${name}".`);
  return fn;
}

export function functionUrl(baseUrl: string, routePrefix: string, fn: RegisteredHttpFunction): string {
  return [baseUrl, routePrefix, fn.route].filter((part) => part !== '').join('/');
}

function urlHost(listenHost: string): string {
  if (listenHost === '0.0.0.0') return '127.0.0.1';
  if (listenHost === '::') return '[::1]';
  return listenHost.includes(':') ? `[${listenHost}]` : listenHost;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new Error(
            `Port ${port} on ${host} is already in use (another host running?). ` +
              'Choose another port (--port N, or port: 0 for an ephemeral one).',
          ),
        );
      } else {
        reject(error);
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
