// One-line explanations of what stops an audit CLI command, for the operator: which setting, which endpoint,
// what to start. Never a stack trace; secrets masked.
import { type AuditStore } from '../../audit/store';
import { redactSecrets } from '../../dps/redact';
import { SettingsError, ConfigurationError } from '../../settings';
import { QueryError, StorageError } from '../../storage/errors';
import { LocalSettingsError } from './local-settings';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
]);

function oneLine(text: string): string {
  return redactSecrets(text.replace(/\s*\n\s*/g, '; ').trim());
}

/** The table endpoint of a store, without any SAS query. */
export function storageEndpoint(store: AuditStore): string {
  const url = new URL(store.client('problems').url);
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/$/, '');
}

function isLocal(endpoint: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/i.test(endpoint);
}

function storageFailure(error: StorageError, endpoint: string | undefined): string {
  const where = endpoint ?? 'the configured endpoint';
  if (error.code !== undefined && UNREACHABLE.has(error.code)) {
    const hint =
      endpoint !== undefined && isLocal(endpoint)
        ? 'Is Azurite running? Start the local stack (`npm start`) or Azurite alone ' +
          '(`npx azurite-table --location .local/azurite --disableTelemetry`)'
        : 'Check AUDIT_STORAGE_CONNECTION_STRING (or AzureWebJobsStorage) and the network';
    return `cannot reach table storage at ${where} (${error.code}). ${hint}.`;
  }
  if (error.status === 401 || error.status === 403) {
    return `table storage at ${where} refused access (${error.status}): check the account key or the identity's role (Storage Table Data Reader).`;
  }
  return `table storage at ${where}: ${oneLine(error.message)}`;
}

/** Whether the error is an expected one (settings, storage, input) rather than a bug. */
export function isExpectedFailure(error: unknown): boolean {
  return (
    error instanceof SettingsError ||
    error instanceof LocalSettingsError ||
    error instanceof ConfigurationError ||
    error instanceof QueryError ||
    error instanceof StorageError
  );
}

/** What went wrong, in one line. */
export function explainFailure(error: unknown, store: AuditStore | undefined): string {
  if (error instanceof StorageError) {
    return storageFailure(error, store === undefined ? undefined : storageEndpoint(store));
  }
  if (error instanceof SettingsError) return oneLine(error.message.replace(/:\s*\n\s*/, ': '));
  if (isExpectedFailure(error)) return oneLine((error as Error).message);
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `unexpected error: ${oneLine(text)}`;
}
