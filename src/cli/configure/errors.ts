// The expected failure of the configure command (bad options are a UsageError: shared/usage-error.ts). Its
// message is shown to the user as one line: it never holds a secret.

/** An expected failure while configuring (missing enrollment, refused write, key lookup failed): exit code 1. */
export class ConfigureError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigureError';
  }
}
