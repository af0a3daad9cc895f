// A time limit on each attempt of a storage request, inside the SDK's retry policy. Without it a storage endpoint
// that accepts a connection and never answers holds a scan (or a dashboard read) until the Functions timeout: the
// HTTP client has no timeout of its own. An attempt that runs out is reported as ETIMEDOUT, which the SDK's
// exponential retry treats like a reset connection: retried with backoff, then thrown.
import { RestError, type PipelinePolicy } from '@azure/core-rest-pipeline';

/**
 * Table operations finish in milliseconds. 15 s per attempt keeps a scan's worst case per call (6 attempts and the
 * backoff between them) near 2 minutes, well inside the 10-minute function timeout.
 */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 15_000;

export function attemptTimeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'storageAttemptTimeout',
    async sendRequest(request, next) {
      // Its own timer rather than request.timeout: the HTTP client leaves that timer running when a connection is
      // refused, which holds a CLI (or a test run) open for the whole timeout.
      const callerSignal = request.abortSignal;
      const attempt = new AbortController();
      const abortAttempt = () => attempt.abort();
      const timer = setTimeout(abortAttempt, timeoutMs);
      if (callerSignal?.aborted) attempt.abort();
      callerSignal?.addEventListener('abort', abortAttempt);
      request.abortSignal = attempt.signal;
      try {
        return await next(request);
      } catch (error) {
        if (!attempt.signal.aborted || callerSignal?.aborted) throw error;
        throw new RestError(`no answer from table storage within ${timeoutMs} ms`, {
          code: 'ETIMEDOUT',
          request,
        });
      } finally {
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', abortAttempt);
        request.abortSignal = callerSignal; // the retry policy looks at the caller's signal between attempts
      }
    },
  };
}
