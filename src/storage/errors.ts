// The errors of table storage as the app's features report them: a call that failed after the SDK's retries, and
// a query the caller got wrong. No SDK import: modules that only name these errors load nothing.
import { redactSecrets } from '../dps/redact';

/** A storage call that failed after the SDK's retries. */
export class StorageError extends Error {
  override name = 'StorageError';
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(operation: string, table: string, cause: unknown) {
    const details = cause as { statusCode?: number; code?: string; message?: string };
    const reason = redactSecrets(String(details?.message ?? cause)).slice(0, 500);
    super(`Table storage ${operation} on ${table} failed: ${reason}`, { cause });
    this.status = details?.statusCode;
    this.code = details?.code;
  }
}

/** Whether a storage error is the given HTTP status (404, 409, 412...). */
export function isStorageStatus(error: unknown, status: number): boolean {
  const found = error instanceof StorageError ? error.status : (error as { statusCode?: number })?.statusCode;
  return found === status;
}

/** Runs a storage call, turning what the SDK could not retry into a StorageError naming the table. */
export async function storageCall<T>(operation: string, table: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new StorageError(operation, table, error);
  }
}

/** A filter or range the caller got wrong: a 400 (or exit code 1), never a storage failure. */
export class QueryError extends Error {
  override name = 'QueryError';
}
