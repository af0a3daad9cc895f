// The audit's own filters, as an operator types them (HTTP query parameters and CLI options): problem status,
// enrollment kind, DPS ids and error codes. The general ones (counts, times, page tokens) are in http/inputs.ts.
import { z } from 'zod';
import { idKey } from '../../storage/keys';
import { PROBLEM_STATUSES } from '../rows/problems';

export const statusInput = z.enum(PROBLEM_STATUSES, {
  error: `must be one of ${PROBLEM_STATUSES.join(', ')}`,
});

export const kindInput = z.enum(['group', 'individual'], { error: "must be 'group' or 'individual'" });

/** Whether a value can be looked up at all: its table key must fit in 1 KiB once escaped. */
function fitsTableKey(value: string): boolean {
  try {
    idKey(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * An enrollment group or registration id. Any text is accepted (it only ever reaches a query escaped and quoted),
 * so an id DPS would never issue simply matches nothing.
 */
export const idInput = z
  .string()
  .min(1, 'must not be empty')
  .refine(fitsTableKey, 'is too long to be a DPS id');

export const errorCodeInput = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a whole number such as 400209')
  .transform(Number);
