// `npm run audit -- <command>`: the audit tables as readable tables (or JSON), and a scan run on demand. Each
// command is one entry of COMMANDS (usage lines and a runner); `decisions` reads allocate's decision table, `hubs`
// the hub-load table next to the allocation policy's caps.
import { errorCodeInput, idInput, kindInput, statusInput } from '../../audit/read/inputs';
import {
  DEFAULT_TRANSITIONS,
  DEFAULT_TRANSITIONS_SINCE,
  MAX_TRANSITIONS,
  problemSummary,
  recentTransitions,
} from '../../audit/read/overview';
import type { ProblemFilters } from '../../audit/read/queries';
import { scanRunView, type ProblemView } from '../../audit/read/view-shapes';
import {
  enrollmentFindings,
  problemsPage,
  registrationHistory,
  scanRuns,
  scanStatus,
} from '../../audit/read/views';
import { attestationLogSource, createAuditDpsClient, scanOptionsFrom } from '../../audit/scan/run-audit';
import { runScan } from '../../audit/scan/scan';
import { auditStoreFor, type AuditStore } from '../../audit/store';
import { decisionSummary, MAX_SUMMARY_DAYS, readDecisions } from '../../decisions/queries';
import { decisionStoreFor } from '../../decisions/store';
import { OUTCOMES, type DecisionOutcome } from '../../decisions/table';
import type { DecisionView } from '../../decisions/views';
import { countInput, sinceInput } from '../../http/inputs';
import { readHubsReport } from '../../hub-load/read-report';
import { hubLoadReadStoreFor } from '../../hub-load/store';
import { readSettings, type Settings } from '../../settings';
import { decodePageToken } from '../../storage/page-token';
import {
  parseCommandArgs as parse,
  validatedOption as option,
  validatedValue as validated,
} from '../shared/args';
import { EXIT } from '../shared/exit-codes';
import type { CliIo } from '../shared/io';
import { UsageError } from '../shared/usage-error';
import { eventsCommand } from './events-command';
import { trendsCommand } from './trends-command';
import { settingsEnvironment } from './local-settings';
import { ProgressLine, ScanProgressTracker, type ProgressStream } from './progress';
import {
  renderFindings,
  renderHistory,
  renderProblems,
  renderRunSummary,
  renderScans,
  renderSummary,
  renderTransitions,
} from './render';
import { renderDecisions } from './render-decisions';
import { renderHubs } from './render-hubs';

export interface AuditCliIo extends CliIo {
  /** Errors and the scan's progress line (redrawn in place when it is a terminal). */
  stderr: ProgressStream;
  /** Plain progress lines (stderr not a terminal) at most this often; 0: one per page; default 5 s. */
  progressIntervalMs?: number;
  /** Where Ctrl-C (SIGINT) comes from during `scan`; default process. */
  interrupts?: Pick<NodeJS.EventEmitter, 'once' | 'off'>;
}

export const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 100_000;
const DEFAULT_SCANS = 20;

/** What a command runs with: settings and the store are made on first use, so `--help` needs neither. */
export class CliSession {
  private environment: NodeJS.ProcessEnv | undefined;
  private appSettings: Settings | undefined;
  private store: AuditStore | undefined;

  constructor(readonly io: AuditCliIo) {}

  out(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  get env(): NodeJS.ProcessEnv {
    this.environment ??= settingsEnvironment(this.io.env ?? process.env, this.io.cwd ?? process.cwd());
    return this.environment;
  }

  get settings(): Settings {
    this.appSettings ??= readSettings(this.env);
    return this.appSettings;
  }

  /** The store for reading: short retries, so a storage outage is reported in seconds. */
  readStore(): AuditStore {
    this.store ??= auditStoreFor(this.settings, this.env, 'reads');
    return this.store;
  }

  /** The read store if one was made: its endpoint explains storage errors. */
  get storeInUse(): AuditStore | undefined {
    return this.store;
  }
}

export interface Command {
  /** Usage lines: the synopsis first, then indented explanations. */
  usage: readonly string[];
  run(args: readonly string[], session: CliSession): Promise<number>;
}

function printJson(session: CliSession, value: unknown): void {
  session.out(JSON.stringify(value, null, 2));
}

const list: Command = {
  usage: [
    'list [--status s] [--group g] [--kind group|individual] [--error-code n] [--since 1h|ISO]',
    '     [--resolved|--open] [--limit n] [--json]',
    '    Problems recorded by the audit (open and resolved unless --open or --resolved), by group and',
    `    registration id. --since: first seen in the last 30m/12h/7d/2w, or since a date-time. --limit: default ${DEFAULT_LIST_LIMIT}.`,
  ],
  async run(args, session) {
    const { values } = parse(args, {
      status: { type: 'string' },
      group: { type: 'string' },
      kind: { type: 'string' },
      'error-code': { type: 'string' },
      since: { type: 'string' },
      resolved: { type: 'boolean' },
      open: { type: 'boolean' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.resolved && values.open) throw new UsageError('--resolved and --open exclude each other');
    const filters: ProblemFilters = {
      status: option(statusInput, values, 'status'),
      group: option(idInput, values, 'group'),
      kind: option(kindInput, values, 'kind'),
      errorCode: option(errorCodeInput, values, 'error-code'),
      since: option(sinceInput(), values, 'since'),
      resolved: values.resolved ? true : values.open ? false : undefined,
    };
    const limit = option(countInput(MAX_LIST_LIMIT), values, 'limit') ?? DEFAULT_LIST_LIMIT;
    // One row past the limit tells whether more match.
    const rows: ProblemView[] = [];
    let token: string | undefined;
    do {
      const page = await problemsPage(session.readStore(), filters, {
        pageSize: Math.min(1000, limit + 1 - rows.length),
        continuationToken: token === undefined ? undefined : decodePageToken(token),
      });
      rows.push(...page.items);
      token = page.continuationToken;
    } while (token !== undefined && rows.length <= limit);
    const shown = rows.slice(0, limit);
    if (values.json) printJson(session, shown);
    else session.out(renderProblems(shown, rows.length > limit));
    return EXIT.ok;
  },
};

const history: Command = {
  usage: [
    'history <registrationId> [--group g] [--json]',
    "    A device's problem status transitions, oldest first (--group: only in that enrollment group).",
  ],
  async run(args, session) {
    const { values, positionals } = parse(args, { group: { type: 'string' }, json: { type: 'boolean' } }, [
      'registration id',
    ]);
    const registrationId = validated(idInput, positionals[0] ?? '', 'the registration id');
    const group = option(idInput, values, 'group');
    const rows = await registrationHistory(session.readStore(), registrationId, { group });
    if (values.json) printJson(session, rows);
    else session.out(renderHistory(registrationId, rows, group));
    return EXIT.ok;
  },
};

const scans: Command = {
  usage: [
    'scans [--limit n] [--json]',
    `    The newest scan runs (default ${DEFAULT_SCANS}) and where the scan stands.`,
  ],
  async run(args, session) {
    const { values } = parse(args, { limit: { type: 'string' }, json: { type: 'boolean' } });
    const limit = option(countInput(1000), values, 'limit') ?? DEFAULT_SCANS;
    const store = session.readStore();
    const [runs, state] = await Promise.all([scanRuns(store, limit), scanStatus(store)]);
    if (values.json) printJson(session, { items: runs, state });
    else session.out(renderScans(runs, state));
    return EXIT.ok;
  },
};

const findings: Command = {
  usage: [
    'findings [--json]',
    '    Enrollment configuration findings: every group, and the individual enrollments with findings.',
  ],
  async run(args, session) {
    const { values } = parse(args, { json: { type: 'boolean' } });
    const rows = await enrollmentFindings(session.readStore());
    if (values.json) printJson(session, rows);
    else session.out(renderFindings(rows));
    return EXIT.ok;
  },
};

const summary: Command = {
  usage: [
    'summary [--json]',
    '    The open problems counted by status, by error code (with what it means) and by enrollment,',
    '    and how many were resolved in the last 24 hours (what the dashboard shows).',
  ],
  async run(args, session) {
    const { values } = parse(args, { json: { type: 'boolean' } });
    const counts = await problemSummary(session.readStore());
    if (values.json) printJson(session, counts);
    else session.out(renderSummary(counts));
    return EXIT.ok;
  },
};

const transitions: Command = {
  usage: [
    `transitions [--since 24h|ISO] [--limit n] [--json]`,
    '    The newest status transitions of every device (new problems, changes, recoveries), newest',
    `    first. --since: default ${DEFAULT_TRANSITIONS_SINCE}; --limit: default ${DEFAULT_TRANSITIONS}, at most ${MAX_TRANSITIONS}.`,
  ],
  async run(args, session) {
    const { values } = parse(args, {
      since: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    const since = validated(
      sinceInput(),
      (values.since as string | undefined) ?? DEFAULT_TRANSITIONS_SINCE,
      '--since',
    );
    const limit = option(countInput(MAX_TRANSITIONS), values, 'limit') ?? DEFAULT_TRANSITIONS;
    const recent = await recentTransitions(session.readStore(), { since, limit });
    if (values.json) printJson(session, recent);
    else session.out(renderTransitions(recent));
    return EXIT.ok;
  },
};

const scan: Command = {
  usage: [
    'scan [--json]',
    '    Runs one scan run now, as the timer does (same budgets and lease), with a progress line on',
    '    stderr, then prints the run. Exit code 1 when the run failed or another run holds the lease.',
    '    Ctrl-C ends the run after the current page (checkpoint saved, lease released; the next run',
    '    resumes there); a second Ctrl-C quits at once.',
  ],
  async run(args, session) {
    const { values } = parse(args, { json: { type: 'boolean' } });
    const { settings, env } = session;
    const startedMs = Date.now();
    const line = new ProgressLine(session.io.stderr, () => tracker.sample(), {
      intervalMs: session.io.progressIntervalMs,
    });
    const log = (level: 'info' | 'warn', message: string) =>
      line.note(`${level === 'warn' ? 'warning' : 'info'}: ${message}`);
    const dps = createAuditDpsClient(settings, log);
    const tracker = new ScanProgressTracker(
      () => dps.stats().operations,
      () => Date.now() - startedMs,
    );
    const stop = new AbortController();
    const interrupts = session.io.interrupts ?? process;
    // Once heard, the listener is gone: a second Ctrl-C gets Node's default (quit at once).
    const onInterrupt = () => {
      line.note('stopping after the current page (Ctrl-C again quits at once, leaving the lease to expire)');
      stop.abort();
    };
    let run;
    try {
      await session.readStore().ensureTables(); // a quick, clear failure when storage is unreachable
      line.start();
      interrupts.once('SIGINT', onInterrupt);
      run = await runScan(
        { dps, store: auditStoreFor(settings, env), attestationLog: attestationLogSource(settings, env) },
        {
          ...scanOptionsFrom(settings, env, log),
          stopSignal: stop.signal,
          onProgress: (progress) => {
            tracker.record(progress);
            line.changed();
          },
        },
      );
    } finally {
      interrupts.off('SIGINT', onInterrupt);
      line.stop();
      await dps.close();
    }
    const view = scanRunView(run);
    if (values.json) printJson(session, view);
    else session.out(renderRunSummary(view));
    return run.outcome === 'completed' || run.outcome === 'resumable' ? EXIT.ok : EXIT.failed;
  },
};

const DEFAULT_DECISIONS_SINCE_MS = 3_600_000;

const windowDays = (since: Date, until: Date | undefined) =>
  ((until?.getTime() ?? Date.now()) - since.getTime()) / 86_400_000;

const decisions: Command = {
  usage: [
    'decisions [--since 1h|ISO] [--until 10m|ISO] [--hub h] [--outcome assigned|rejected|invalid-request]',
    '          [--limit n] [--json]',
    "    allocate's recorded decisions, oldest first: registration, group, rule, strategy, hub,",
    '    initial or reprovision, latency; then the count per hub. --since: default 1h.',
    `    --limit: default ${DEFAULT_LIST_LIMIT}.`,
  ],
  async run(args, session) {
    const { values } = parse(args, {
      since: { type: 'string' },
      until: { type: 'string' },
      hub: { type: 'string' },
      outcome: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    const outcome = values.outcome;
    if (outcome !== undefined && !(OUTCOMES as readonly unknown[]).includes(outcome)) {
      throw new UsageError(`--outcome must be one of ${OUTCOMES.join(', ')}`);
    }
    const hub = values.hub;
    if (hub !== undefined && (typeof hub !== 'string' || hub.trim() === '')) {
      throw new UsageError('--hub must not be empty');
    }
    const since = option(sinceInput(), values, 'since') ?? new Date(Date.now() - DEFAULT_DECISIONS_SINCE_MS);
    const until = option(sinceInput(), values, 'until');
    if (until !== undefined && until.getTime() <= since.getTime()) {
      throw new UsageError('--until must be later than --since');
    }
    const limit = option(countInput(MAX_LIST_LIMIT), values, 'limit') ?? DEFAULT_LIST_LIMIT;
    session.readStore(); // not read: its endpoint explains a storage error
    const store = decisionStoreFor(session.settings, session.env);
    // One row past the limit tells whether more match.
    const rows: DecisionView[] = [];
    let token: string | undefined;
    do {
      const page = await readDecisions(store, {
        since,
        until,
        hub,
        outcome: outcome as DecisionOutcome | undefined,
        limit: Math.min(1000, limit + 1 - rows.length),
        continuationToken: token === undefined ? undefined : decodePageToken(token),
      });
      rows.push(...page.items);
      token = page.continuationToken;
    } while (token !== undefined && rows.length <= limit);
    const shown = rows.slice(0, limit);
    const more = rows.length > limit;
    if (values.json) printJson(session, shown);
    else {
      // The table shows the first rows only: the per-hub count of the whole window comes from the summary.
      const wholeWindow =
        more && hub === undefined && outcome === undefined && windowDays(since, until) <= MAX_SUMMARY_DAYS;
      const totals = wholeWindow ? await decisionSummary(store, { since, until }) : undefined;
      session.out(renderDecisions(shown, more, totals));
    }
    return EXIT.ok;
  },
};

const hubs: Command = {
  usage: [
    'hubs [--json]',
    "    Each hub: its device count (read by the hub-load timer), the policy's cap and drain flag, how",
    '    full it is and how old its count is; then the hubs whose last read failed, and why.',
  ],
  async run(args, session) {
    const { values } = parse(args, { json: { type: 'boolean' } });
    session.readStore(); // not read: its endpoint explains a storage error
    const report = await readHubsReport(hubLoadReadStoreFor(session.settings, session.env), session.settings);
    if (values.json) printJson(session, report);
    else session.out(renderHubs(report));
    return EXIT.ok;
  },
};

/** Every command, in the order --help lists them. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  list,
  history,
  scans,
  findings,
  summary,
  transitions,
  scan,
  decisions,
  hubs,
  events: eventsCommand,
  trends: trendsCommand,
};

/** The usage of one command, for `<command> --help`. */
export function commandUsage(command: Command): string {
  return [
    'Usage: npm run audit -- <command> [options]',
    '',
    ...command.usage.map((text) => `  ${text}`),
  ].join('\n');
}

export function usage(): string {
  const commands = Object.values(COMMANDS).flatMap((command) => [
    ...command.usage.map((text) => `  ${text}`),
    '',
  ]);
  return [
    'Usage: npm run audit -- <command> [options]',
    '',
    ...commands,
    'Settings come from the environment, then from local.settings.json Values (as the Functions host reads',
    'them): AUDIT_STORAGE_CONNECTION_STRING or AzureWebJobsStorage, AUDIT_TABLE_PREFIX, and for scan',
    'DPS_CONNECTION_STRING or DPS_HOST_NAME. Times are UTC.',
    '',
    'Exit codes: 0 done, 1 failed (storage, settings, a failed or skipped scan run), 2 bad arguments.',
  ].join('\n');
}
