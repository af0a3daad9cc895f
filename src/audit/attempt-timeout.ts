// A time limit on each attempt of a storage request, inside the SDK's retry policy. Without it a storage endpoint
// that accepts a connection and never answers holds a scan (or a dashboard read) until the Functions timeout: the
// HTTP client has no timeout of its own. An attempt that runs out is reported as ETIMEDOUT, which the SDK's
// exponential retry treats like a reset connection: retried with backoff, then thrown.
import { RestError, type PipelinePolicy } from '@azure/core-rest-pipeline';

/** Table operations finish in milliseconds; the service's own limit per operation is 30 s. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

export function attemptTimeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'storageAttemptTimeout',
    async sendRequest(request, next) {
      request.timeout = timeoutMs; // per attempt: the retry policy sends the same request again
      try {
        return await next(request);
      } catch (error) {
        // The HTTP client reports its own timeout as an abort; the caller's abort stays an abort.
        if ((error as Error)?.name !== 'AbortError' || request.abortSignal?.aborted) throw error;
        throw new RestError(`no answer from table storage within ${timeoutMs} ms`, {
          code: 'ETIMEDOUT',
          request,
        });
      }
    },
  };
}
