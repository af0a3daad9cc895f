// What an operator may type as a filter of a JSON API (HTTP query parameters) or a CLI option: strings in, typed
// values out, each with a message that says what is accepted. The HTTP APIs and the CLI share these, so the same
// value means the same thing in both.
import { z } from 'zod';
import { decodePageToken } from '../storage/page-token';

export const booleanInput = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .transform((value) => value === 'true');

/** A whole number from 1 to `max`. */
export function countInput(max: number) {
  const message = `must be a whole number from 1 to ${max}`;
  return z
    .string()
    .regex(/^\d{1,7}$/, message)
    .transform(Number)
    .pipe(z.number().min(1, message).max(max, message));
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** Azure Table Storage keeps DateTime values from 1601 on. */
const EARLIEST_MS = Date.UTC(1601, 0, 1);
const SINCE_MESSAGE =
  'must be a duration back from now (30m, 12h, 7d, 2w), an ISO 8601 date-time with a time zone ' +
  '(2026-06-01T08:00:00Z) or a date (2026-06-01, UTC)';

function parseSince(text: string, nowMs: number): Date | undefined {
  const relative = /^(\d{1,6})([smhdw])$/.exec(text);
  let ms: number;
  if (relative) ms = nowMs - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  else if (z.iso.datetime({ offset: true }).safeParse(text).success || z.iso.date().safeParse(text).success) {
    ms = Date.parse(text);
  } else return undefined;
  return Number.isNaN(ms) || ms < EARLIEST_MS ? undefined : new Date(ms);
}

/** `since`: a relative duration (resolved against `now` when parsed) or an absolute date-time. */
export function sinceInput(now: () => number = Date.now) {
  return z.string().transform((text, context) => {
    const since = parseSince(text.trim(), now());
    if (since) return since;
    context.issues.push({ code: 'custom', message: SINCE_MESSAGE, input: text });
    return z.NEVER;
  });
}

/** A continuation token this API handed out, back in the table SDK's form. */
export const pageTokenInput = z.string().transform((token, context) => {
  const decoded = decodePageToken(token);
  if (decoded !== undefined) return decoded;
  context.issues.push({
    code: 'custom',
    message: 'is not a continuation token from a previous page of this query',
    input: token,
  });
  return z.NEVER;
});

/** The first problem of a failed parse: which input and what is wrong with it. */
export function firstIssue(error: z.ZodError): { name: string; message: string } {
  const issue = error.issues[0];
  return { name: String(issue?.path[0] ?? ''), message: issue?.message ?? 'is not valid' };
}
