// UTC days as `YYYY-MM-DD` (the decision table's partitions and the roll-up's row keys).
import { dayPartition } from '../decisions/table';

export const DAY_MS = 86_400_000;
/** The longest window the view reads; a scan's days older than this are not recomputed (never shown). */
export const MAX_TREND_DAYS = 90;

export { dayPartition as utcDay };

/** Midnight UTC starting `day`. */
export function dayStart(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

export function nextDay(day: string): string {
  return dayPartition(new Date(dayStart(day).getTime() + DAY_MS));
}

/** The `days` UTC days ending with the day of `nowMs`, oldest first. */
export function windowDays(days: number, nowMs: number): string[] {
  const today = dayStart(dayPartition(new Date(nowMs))).getTime();
  return Array.from({ length: days }, (_, i) => dayPartition(new Date(today - (days - 1 - i) * DAY_MS)));
}
