// The decision log as allocate uses it, built from the app settings: off (DECISION_LOG_ENABLED=false), or a
// DecisionWriter on the audit's storage. The table SDK is loaded just after the function module, not while it
// loads: the allocate module's cold import stays as small as the webhook (see bench `allocation`), and by the first
// request the client is ready. Without a storage connection the log says so once, on the first decision, and
// allocation goes on.
import { ConfigurationError } from '../settings';
import type { Settings } from '../settings';
import type { DecisionRow } from './table';
import type * as TableSinkModule from './table-sink';
import {
  DecisionWriter,
  type DecisionNotices,
  type DecisionRecorder,
  type DecisionSink,
  type DecisionWriterOptions,
  type RecordOutcome,
} from './writer';

/** Notices on the console: outside an invocation there is no InvocationContext; the worker forwards console lines. */
export const consoleNotices: DecisionNotices = {
  info: (message) => console.info(message),
  warn: (message) => console.warn(message),
};

/** A recorder that records nothing (the log is off). */
export const disabledRecorder: DecisionRecorder = {
  record: () => Promise.resolve('skipped'),
  close: () => Promise.resolve(),
};

type OpenSink = () => DecisionSink & { prepare?(): Promise<void> };

/** Opens the sink once, on warm-up or on the first record, whichever comes first. */
class LazyRecorder implements DecisionRecorder {
  private writer: DecisionWriter | undefined;
  private unavailable: string | undefined;
  private noticeGiven = false;
  private closed = false;

  constructor(
    private readonly openSink: OpenSink,
    private readonly options: DecisionWriterOptions,
  ) {}

  /** Opens the sink and starts creating the table. */
  warmUp(): void {
    this.open();
  }

  record(row: DecisionRow): Promise<RecordOutcome> {
    if (this.closed) return Promise.resolve('skipped');
    const writer = this.open();
    if (writer) return writer.record(row);
    if (!this.noticeGiven) {
      this.noticeGiven = true;
      this.options.notices.info(`Decision log off: ${this.unavailable}`);
    }
    return Promise.resolve('skipped');
  }

  async close(timeoutMs?: number): Promise<void> {
    this.closed = true;
    await this.writer?.close(timeoutMs);
  }

  private open(): DecisionWriter | undefined {
    if (this.writer || this.unavailable !== undefined || this.closed) return this.writer;
    try {
      const sink = this.openSink();
      sink.prepare?.().catch(() => undefined); // a failure shows on the first write, with the writer's notice
      this.writer = new DecisionWriter(sink, this.options);
    } catch (error) {
      this.unavailable =
        error instanceof ConfigurationError
          ? error.message.replace(/^The audit has no storage account/, 'no storage account is configured')
          : `the decision table cannot be opened: ${(error as Error).message}`;
    }
    return this.writer;
  }
}

export interface RecorderOptions {
  notices?: DecisionNotices;
  /** Replaces the table sink (tests, benchmarks). */
  openSink?: OpenSink;
  /** Writer tuning beyond the settings (tests, benchmarks). */
  writer?: Partial<Omit<DecisionWriterOptions, 'notices'>>;
}

/** The decision log of the app settings; its sink opens on the next turn of the event loop. */
export function decisionRecorderFromSettings(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  options: RecorderOptions = {},
): DecisionRecorder {
  if (!settings.DECISION_LOG_ENABLED) return disabledRecorder;
  const openSink =
    options.openSink ??
    (() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tableSink = require('./table-sink') as typeof TableSinkModule;
      return tableSink.openDecisionSink(settings, env);
    });
  const recorder = new LazyRecorder(openSink, {
    maxWaitMs: settings.DECISION_LOG_MAX_WAIT_MS,
    maxQueue: settings.DECISION_LOG_MAX_QUEUE,
    notices: options.notices ?? consoleNotices,
    ...options.writer,
  });
  setImmediate(() => recorder.warmUp()).unref();
  return recorder;
}
