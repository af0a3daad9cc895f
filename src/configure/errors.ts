// Errors of the configure command. Their messages are shown to the user as one line: they never hold a secret.

/** Bad or conflicting options: the CLI exits with code 2. */
export class ConfigureUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigureUsageError';
  }
}

/** An expected failure while configuring (missing enrollment, refused write, key lookup failed): exit code 1. */
export class ConfigureError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigureError';
  }
}
