// The progress line of `npm run audit -- scan` on stderr: redrawn in place on a terminal, printed as plain lines
// every few seconds otherwise (CI logs, pipes), so a long scan never looks stuck.
import type { ScanProgress } from '../../audit/scan/scan';
import { formatCount } from '../shared/format-table';
import { formatDuration } from './render';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** What the line shows; sampled whenever it is drawn. */
export interface ProgressSample {
  /** The group being read; undefined before the first page and once the groups are done. */
  group?: string;
  phase: 'starting' | 'groups' | 'individuals';
  groupsDone: number;
  registrationsRead: number;
  /** Problem registrations seen so far (new or already recorded). */
  problems: number;
  dpsOperations: number;
  elapsedMs: number;
}

export function formatProgress(sample: ProgressSample): string {
  const where =
    sample.phase === 'starting'
      ? 'listing enrollment groups'
      : sample.phase === 'individuals'
        ? 'reading individual enrollments'
        : `reading group ${sample.group ?? ''}`.trimEnd();
  const parts = [
    `${formatCount(sample.groupsDone)} ${sample.groupsDone === 1 ? 'group' : 'groups'} done, ${where}`,
    `${formatCount(sample.registrationsRead)} registrations read`,
    `${formatCount(sample.problems)} ${sample.problems === 1 ? 'problem' : 'problems'}`,
    `${formatCount(sample.dpsOperations)} DPS operations`,
    formatDuration(sample.elapsedMs),
  ];
  return `scan: ${parts.join(' · ')}`;
}

/** Turns the engine's per-page events into a sample: counts the groups finished so far. */
export class ScanProgressTracker {
  private phase: ProgressSample['phase'] = 'starting';
  private group: string | undefined;
  private groupsDone = 0;
  private registrationsRead = 0;
  private problems = 0;

  constructor(
    private readonly dpsOperations: () => number,
    private readonly elapsedMs: () => number,
  ) {}

  /** A page was read. */
  record(progress: ScanProgress): void {
    if (this.phase === 'groups' && progress.enrollmentGroupId !== this.group) this.groupsDone++;
    this.phase = progress.phase;
    this.group = progress.phase === 'groups' ? progress.enrollmentGroupId : undefined;
    this.registrationsRead = progress.registrationsRead;
    this.problems = progress.problemsSeen;
  }

  sample(): ProgressSample {
    return {
      phase: this.phase,
      group: this.group,
      groupsDone: this.groupsDone,
      registrationsRead: this.registrationsRead,
      problems: this.problems,
      dpsOperations: this.dpsOperations(),
      elapsedMs: this.elapsedMs(),
    };
  }
}

export interface ProgressLineOptions {
  /** Plain-line mode: at most one line per this interval (and one at least this often); 0: one per page. Default 5 s. */
  intervalMs?: number;
  now?: () => number;
}

const CLEAR_LINE = '\r\x1b[2K';
/** Terminal mode: redraws at most this often on events, and at least this often for the elapsed time. */
const REDRAW_MS = 100;
const TICK_MS = 1000;

export class ProgressLine {
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private lastDrawMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: ProgressStream,
    private readonly sample: () => ProgressSample,
    options: ProgressLineOptions = {},
  ) {
    this.tty = stream.isTTY === true;
    this.intervalMs = options.intervalMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    const tick = this.tty ? TICK_MS : this.intervalMs;
    if (tick > 0) {
      this.timer = setInterval(() => this.draw(), tick);
      this.timer.unref();
    }
    this.draw();
  }

  /** Something moved: draw if the last drawing is old enough. */
  changed(): void {
    if (this.now() - this.lastDrawMs >= (this.tty ? REDRAW_MS : this.intervalMs)) this.draw();
  }

  /** A message of its own line (a warning), without garbling the progress line. */
  note(line: string): void {
    if (this.tty) {
      this.stream.write(`${CLEAR_LINE}${line}\n`);
      this.draw();
    } else this.stream.write(`${line}\n`);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.stream.write(CLEAR_LINE);
  }

  private draw(): void {
    this.lastDrawMs = this.now();
    const line = formatProgress(this.sample());
    if (!this.tty) {
      this.stream.write(`${line}\n`);
      return;
    }
    // A pseudo-terminal without a size reports 0 columns.
    const width = Math.max(20, (this.stream.columns || 120) - 1);
    this.stream.write(`${CLEAR_LINE}${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
  }
}
