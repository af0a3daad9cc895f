// Exit codes of every command: scripts and CI tell a failure from a typo.
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The work failed, or found what it checks for (an invalid policy). */
  failed: 1,
  /** Bad arguments or input files: nothing was done. */
  usage: 2,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
