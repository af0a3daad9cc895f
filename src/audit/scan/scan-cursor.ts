// Where a scan stands, and the only code that moves it: phases in order (groups in key order, then the individual
// enrollments), the group being read and the token of its next page. A position moves past a page only when that
// page's writes are done (page-loop.ts), so a saved cursor never skips a page; a crash replays some.
import { randomUUID } from 'node:crypto';
import type { Checkpoint, ScanPhase } from './checkpoint';

export class ScanCursor {
  private constructor(private readonly position: Checkpoint) {}

  /** Goes on from the saved checkpoint, or starts a new scan when there is none or the last one completed. */
  static resume(saved: Checkpoint | undefined, nowMs: number): ScanCursor {
    const position: Checkpoint =
      saved === undefined || saved.phase === 'done'
        ? { scanId: randomUUID(), scanStartedAt: new Date(nowMs), phase: 'groups', runs: 0 }
        : { ...saved };
    position.runs++;
    return new ScanCursor(position);
  }

  get scanId(): string {
    return this.position.scanId;
  }

  get scanStartedAt(): Date {
    return this.position.scanStartedAt;
  }

  get phase(): ScanPhase {
    return this.position.phase;
  }

  /** The key of the group being read; undefined before the first group. */
  get groupKey(): string | undefined {
    return this.position.groupKey;
  }

  /** The token of the next page to read in the current group or phase; undefined at its start. */
  get resumeToken(): string | undefined {
    return this.position.continuationToken;
  }

  /** The checkpoint to save: a copy, so a save in flight never sees a later move. */
  checkpoint(): Checkpoint {
    return { ...this.position };
  }

  /** Starts reading a group; resolves the token to resume it with, when the cursor was saved inside it. */
  enterGroup(groupKey: string): string | undefined {
    const resumeToken = this.position.groupKey === groupKey ? this.position.continuationToken : undefined;
    this.position.groupKey = groupKey;
    this.position.continuationToken = resumeToken;
    return resumeToken;
  }

  /** The pages before `nextToken` are written: a resumed run starts there. */
  pagesWritten(nextToken: string | undefined): void {
    this.position.continuationToken = nextToken;
  }

  /** DPS refused the saved token: the group is read again from its first page. */
  restartGroup(): void {
    this.position.continuationToken = undefined;
  }

  /** The group is done; the next run starts at `nextGroupKey` (or finishes the groups when there is none). */
  groupDone(nextGroupKey: string | undefined): void {
    this.position.groupKey = nextGroupKey;
    this.position.continuationToken = undefined;
  }

  /** Every group is done: the individual enrollments are next. */
  groupsDone(): void {
    this.moveTo('individuals');
  }

  /** The individual enrollments are done: the scan is complete, and the next run starts a new one. */
  complete(): void {
    this.moveTo('done');
  }

  /** Where a resumed run goes on, for the scan-run row; undefined once complete. */
  describe(): string | undefined {
    if (this.position.phase === 'done') return undefined;
    if (this.position.phase === 'individuals') return 'individual enrollments';
    const key = this.position.groupKey;
    return key === undefined ? 'enrollment groups' : `enrollment group ${key}`;
  }

  private moveTo(phase: ScanPhase): void {
    this.position.phase = phase;
    this.position.groupKey = undefined;
    this.position.continuationToken = undefined;
  }
}
