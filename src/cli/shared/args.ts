// Command-line arguments through Node's own util.parseArgs (strict: an unknown option is an error), with the
// positionals a command takes named, so a missing or extra one is a UsageError that says which.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { UsageError } from './usage-error';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = ReturnType<typeof parseArgs>['values'];

export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

/** Parses `args`; `positionals` names each positional the command requires, in order. */
export function parseCommandArgs(
  args: readonly string[],
  options: OptionsConfig,
  positionals: readonly string[] = [],
): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's message goes on about `--`; its first sentence is the point.
    throw new UsageError((error as Error).message.split(/\.\s/)[0] ?? String(error));
  }
  const extra = parsed.positionals[positionals.length];
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  const missing = positionals[parsed.positionals.length];
  if (missing !== undefined) throw new UsageError(`which ${missing}?`);
  return { values: parsed.values, positionals: parsed.positionals };
}

/** A string option's value, or undefined when it is absent. */
export function stringOption(value: OptionValues[string]): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** An option's value through a zod input schema; undefined when the option is absent. */
export function validatedOption<S extends z.ZodType<unknown, string>>(
  schema: S,
  values: OptionValues,
  name: string,
): z.output<S> | undefined {
  const value = values[name];
  return typeof value === 'string' ? validatedValue(schema, value, `--${name}`) : undefined;
}

/** A value through a zod input schema; `label` names it in the UsageError. */
export function validatedValue<S extends z.ZodType<unknown, string>>(
  schema: S,
  value: string,
  label: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new UsageError(`${label} ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
}
