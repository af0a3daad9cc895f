/** Bad command-line input (arguments, input files): reported as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
