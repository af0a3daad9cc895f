import { Cron, type CronOptions } from 'croner';
import type { Timer } from '@azure/functions';
import type { Invoker } from './invoker';
import { describeError, formatLogLine, type HostLogSink } from './log';
import type { RegisteredTimerFunction } from './registered-function';

// Timer triggers on their NCRONTAB schedule: six fields, seconds first, in UTC unless WEBSITE_TIME_ZONE names an
// IANA zone. `%SETTING%` in a schedule is read from the app settings (the environment), as the host does.

export type TimerRunReason = 'schedule' | 'startup' | 'manual';

interface TimerEntry {
  fn: RegisteredTimerFunction;
  /** The resolved schedule, when valid. */
  cron: Cron | undefined;
  pattern: string | undefined;
  monitored: boolean;
  job: Cron | undefined;
  lastOccurrence: Date | undefined;
}

export interface TimerRunnerOptions {
  env: NodeJS.ProcessEnv;
  enabled: boolean;
  invoker: Invoker;
  log: HostLogSink;
}

export class TimerRunner {
  readonly #entries = new Map<string, TimerEntry>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #options: TimerRunnerOptions;
  readonly #timezone: string;

  /** Resolves and checks every schedule; with timers enabled a bad one is an error, otherwise a warning. */
  constructor(functions: readonly RegisteredTimerFunction[], options: TimerRunnerOptions) {
    this.#options = options;
    const timezone = options.env.WEBSITE_TIME_ZONE?.trim() || 'UTC';
    this.#timezone = timezone;
    for (const fn of functions) {
      const entry: TimerEntry = {
        fn,
        cron: undefined,
        pattern: undefined,
        monitored: false,
        job: undefined,
        lastOccurrence: undefined,
      };
      try {
        entry.pattern = resolveAppSettings(fn.schedule, options.env, `timer function "${fn.name}"`);
        entry.cron = parseSchedule(entry.pattern, timezone, fn.name);
        entry.monitored = fn.useMonitor ?? intervalMs(entry.cron) >= 60_000;
      } catch (error) {
        if (options.enabled) throw error;
        options.log(formatLogLine('host', 'warning', (error as Error).message));
      }
      this.#entries.set(fn.name.toLowerCase(), entry);
    }
  }

  /** Starts the schedules and the runOnStartup invocations (no-op when timers are disabled). */
  start(): void {
    if (!this.#options.enabled) return;
    for (const entry of this.#entries.values()) {
      const { cron, pattern } = entry;
      if (!cron || !pattern) continue;
      const options = { ...scheduleOptions(this.#timezone), protect: true };
      entry.job = new Cron(pattern, options, (job) => this.#runQuietly(entry, 'schedule', job.currentRun()));
      if (entry.fn.runOnStartup) void this.#runQuietly(entry, 'startup');
    }
  }

  /** Runs a timer function now; rejects with the handler's error (which is also logged). */
  invoke(name: string, reason: TimerRunReason = 'manual'): Promise<void> {
    const entry = this.#entries.get(name.toLowerCase());
    if (!entry) return Promise.reject(new Error(`No timer function named "${name}".`));
    return this.#run(entry, reason);
  }

  /** Stops the schedules and waits (at most `graceMs`) for running invocations. */
  async stop(graceMs: number): Promise<void> {
    for (const entry of this.#entries.values()) entry.job?.stop();
    await settleWithin([...this.#inFlight], graceMs);
  }

  #runQuietly(entry: TimerEntry, reason: TimerRunReason, occurrence?: Date | null): Promise<void> {
    return this.#run(entry, reason, occurrence ?? undefined).catch(() => undefined); // already logged
  }

  #run(entry: TimerEntry, reason: TimerRunReason, occurrence?: Date): Promise<void> {
    const run = this.#execute(entry, reason, occurrence ?? new Date());
    this.#inFlight.add(run);
    return run.finally(() => this.#inFlight.delete(run));
  }

  /** `occurrence`: the scheduled time of a scheduled run, else now. */
  async #execute(entry: TimerEntry, reason: TimerRunReason, occurrence: Date): Promise<void> {
    const { invoker, log } = this.#options;
    const context = invoker.createContext(entry.fn);
    const timer = this.#timerInfo(entry, occurrence);
    if (reason === 'schedule') entry.lastOccurrence = occurrence;
    const started = performance.now();
    const summary = (outcome: string): string =>
      `Executed 'Functions.${entry.fn.name}' (${outcome}, Id=${context.invocationId}, ` +
      `Duration=${Math.round(performance.now() - started)}ms) reason=${reason}`;
    try {
      await invoker.invoke(entry.fn, [timer], context);
      log(formatLogLine(entry.fn.name, 'information', summary('Succeeded')));
    } catch (error) {
      log(formatLogLine(entry.fn.name, 'error', `${summary('Failed')}: ${describeError(error)}`));
      throw error;
    }
  }

  /** scheduleStatus (monitored timers only): `last` = the occurrence before this run, `next` = the one after. */
  #timerInfo(entry: TimerEntry, occurrence: Date): Timer {
    const timer = { isPastDue: false, schedule: { adjustForDST: true } } as Timer;
    if (entry.monitored && entry.cron) {
      const next = entry.cron.nextRun(occurrence);
      const last = entry.lastOccurrence ?? entry.cron.previousRuns(1, occurrence)[0];
      timer.scheduleStatus = {
        last: (last ?? occurrence).toISOString(),
        next: (next ?? occurrence).toISOString(),
        lastUpdated: new Date().toISOString(),
      };
    }
    return timer;
  }
}

/** Replaces each `%NAME%` with the app setting NAME; a missing setting is an error. */
export function resolveAppSettings(value: string, env: NodeJS.ProcessEnv, usedBy: string): string {
  return value.replace(/%([^%\s]+)%/g, (_match, name: string) => {
    const setting = env[name];
    if (setting === undefined || setting.trim() === '') {
      throw new Error(`App setting "${name}" used by ${usedBy} ("${value}") is not set.`);
    }
    return setting.trim();
  });
}

function parseSchedule(pattern: string, timezone: string, functionName: string): Cron {
  if (/^(\d+\.)?\d{1,2}:\d{2}(:\d{2})?$/.test(pattern)) {
    throw new Error(
      `Timer function "${functionName}": TimeSpan schedule "${pattern}" is not supported locally; use NCRONTAB.`,
    );
  }
  try {
    // No callback: this instance only parses and computes occurrences.
    const cron = new Cron(pattern, scheduleOptions(timezone));
    cron.nextRun();
    return cron;
  } catch (error) {
    throw new Error(
      `Timer function "${functionName}": invalid schedule "${pattern}" (NCRONTAB, 6 fields with seconds first, ` +
        `time zone ${timezone}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

// NCRONTAB: six fields; a day must match both day-of-month and day-of-week.
function scheduleOptions(timezone: string): CronOptions {
  return { mode: '6-part', timezone, domAndDow: true };
}

function intervalMs(cron: Cron): number {
  const [first, second] = cron.nextRuns(2);
  return first && second ? second.getTime() - first.getTime() : Number.POSITIVE_INFINITY;
}

/** Waits for `promises` to settle, but no longer than `ms`. */
export async function settleWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timeout: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timeout);
}
