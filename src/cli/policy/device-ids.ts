// Registration ids for a simulation: generated from a pattern (`device-{n:6}`) or read from a list.
import { deviceRuntimeContextSchema } from '../../allocation/request';
import { formatCount } from '../shared/format-table';
import { UsageError } from '../shared/usage-error';

export interface DeviceIds {
  count: number;
  /** The id of device `index` (0 ≤ index < count); generated on demand, so large counts cost no memory. */
  idAt(index: number): string;
  /** For reports, e.g. "device-{n}, n = 0 to 99,999". */
  description: string;
}

export const DEFAULT_ID_PATTERN = 'device-{n}';

const COUNTER = /\{n(?::(\d+))?\}/g;
const MAX_WIDTH = 20;

/** Ids from a pattern where `{n}` is the device index from 0, and `{n:6}` the index zero-padded to 6 digits. */
export function idsFromPattern(pattern: string, count: number): DeviceIds {
  const pieces: (string | number)[] = [];
  let last = 0;
  for (const match of pattern.matchAll(COUNTER)) {
    const width = match[1] === undefined ? 0 : Number(match[1]);
    if (width > MAX_WIDTH)
      throw new UsageError(`--id-pattern: {n:${match[1]}} pads to more than ${MAX_WIDTH} digits`);
    pieces.push(pattern.slice(last, match.index), width);
    last = match.index + match[0].length;
  }
  pieces.push(pattern.slice(last));
  if (!pieces.some((piece) => typeof piece === 'number')) {
    throw new UsageError(`--id-pattern '${pattern}' has no {n}: every device would get the same id`);
  }
  const stray = /\{[^}]*\}/.exec(pattern.replace(COUNTER, ''));
  if (stray) throw new UsageError(`--id-pattern: unknown placeholder ${stray[0]}; use {n} or {n:<digits>}`);
  const idAt = (index: number) => {
    let id = '';
    for (const piece of pieces) id += typeof piece === 'string' ? piece : String(index).padStart(piece, '0');
    return id;
  };
  if (count > 0) {
    // Ids only grow with n, so the first and the last show whether any is out of bounds.
    checkId(idAt(0), '--id-pattern');
    checkId(idAt(count - 1), '--id-pattern');
  }
  return { count, idAt, description: `${pattern}, n = 0 to ${formatCount(Math.max(0, count - 1))}` };
}

/** Ids from text with one id per line; blank lines are skipped, duplicates (case-insensitive) refused. */
export function idsFromList(text: string, source: string): DeviceIds {
  const ids: string[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((line, index) => {
    const id = line.trim();
    if (id === '') return;
    const where = `${source} line ${index + 1}`;
    checkId(id, where);
    const key = id.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new UsageError(`${where}: duplicate registration id '${id}' (also on line ${earlier})`);
    }
    seen.set(key, index + 1);
    ids.push(id);
  });
  if (ids.length === 0) throw new UsageError(`${source}: no registration ids (expected one per line)`);
  return {
    count: ids.length,
    idAt: (index) => ids[index]!,
    description: `from ${source}`,
  };
}

const registrationIdSchema = deviceRuntimeContextSchema.shape.registrationId;

/** The webhook's own rule for registration ids, so a simulated id is one the webhook would accept. */
function checkId(id: string, where: string): void {
  const result = registrationIdSchema.safeParse(id);
  if (!result.success) {
    throw new UsageError(
      `${where}: registration id '${id}' ${result.error.issues[0]?.message ?? 'is invalid'}`,
    );
  }
}
