// What the app's read-only JSON APIs (the audit's and the decision log's) share: every expected failure turned
// into a JSON answer without internals (a bad parameter or query: 400; storage trouble: a 503 with Retry-After;
// missing settings: a 500 that names them), and the store opened from the app settings.
import { redactSecrets } from '../dps/redact';
import { readSettings, SettingsError, type Settings, ConfigurationError } from '../settings';
import { QueryError, StorageError } from '../storage/errors';
import { BadParameter } from './parameters';
import { respond, type JsonAnswer } from './response';

/** The parts of an @azure/functions HttpRequest the APIs read. */
export interface JsonApiRequest {
  url: string;
  query: URLSearchParams;
  params: Record<string, string>;
}

/** The InvocationContext log methods the APIs use. */
export interface JsonApiLog {
  warn(message: string): void;
  error(message: string): void;
}

/** An HTTP function of a JSON API, on the parts of the request it reads. */
export type JsonApiHandler = (request: JsonApiRequest, log: JsonApiLog) => Promise<JsonAnswer>;

/** Seconds a client should wait after a 503. */
const RETRY_AFTER_SECONDS = 30;

/** A store opened from the app settings in process.env when a request needs it (they are read per request). */
export function fromAppSettings<T>(open: (settings: Settings, env: NodeJS.ProcessEnv) => T): () => T {
  return () => open(readSettings(process.env), process.env);
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactSecrets(text.replace(/\s*\n\s*/g, ' '));
}

/** How an API names itself and its data in logs and error answers. */
export interface JsonApiNames {
  /** Log prefix, e.g. `Audit API`. */
  api: string;
  /** The 503's message, e.g. `The audit tables cannot be read right now; try again later.` */
  unavailable: string;
  /** The 500's prefix when settings are missing, e.g. `The audit is not configured`. */
  notConfigured: string;
}

/** Runs a handler's work; every expected failure becomes a JSON answer without internals. */
export async function answer(
  names: JsonApiNames,
  log: JsonApiLog,
  work: () => Promise<JsonAnswer>,
): Promise<JsonAnswer> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BadParameter) {
      return respond(400, { error: error.message, parameter: error.parameter });
    }
    if (error instanceof QueryError) return respond(400, { error: error.message });
    if (error instanceof StorageError) {
      log.warn(`${names.api}: ${describe(error)}`);
      return respond(
        503,
        { error: names.unavailable, retryable: true },
        { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      );
    }
    if (error instanceof ConfigurationError || error instanceof SettingsError) {
      log.error(`${names.api}: ${describe(error)}`);
      return respond(500, { error: `${names.notConfigured}: ${describe(error.message)}`, retryable: false });
    }
    log.error(`${names.api}: unexpected ${describe(error)}`);
    return respond(500, { error: 'Internal error.', retryable: false });
  }
}
