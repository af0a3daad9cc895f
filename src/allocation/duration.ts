// Durations in policies and options, written as a whole number and a unit: "30d", "12h", "2w", "90m".

/** Milliseconds per unit. m is minutes (there is no month: months differ in length). */
export const DURATION_UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
export type DurationUnit = keyof typeof DURATION_UNITS;

export const DURATION_PATTERN = new RegExp(`^([1-9][0-9]*)([${Object.keys(DURATION_UNITS).join('')}])$`);

export const DURATION_SYNTAX = 'a whole number and a unit: m (minutes), h (hours), d (days) or w (weeks)';

/** The duration in milliseconds; undefined when `text` is not a duration. */
export function durationMs(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS[match[2] as DurationUnit];
}
