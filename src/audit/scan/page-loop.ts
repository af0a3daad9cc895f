// The page loop of a partition pass: pages stream through, changes are gathered over pages into transactions,
// a batch is written while the next pages are fetched, and the checkpoint's token moves past a page only once
// that page's writes are done, so a crash replays pages (the writes are idempotent) and never skips one.
import type { Page } from '../../dps/client';
import type { RowChange } from '../rows/problems';
import type { RowAction } from '../store';
import type { RunBudget } from './budget';
import type { PartitionPass } from './partition-pass';

/** Why a run stopped early (a budget), or undefined when its part of the scan is done. */
export type Stop = string | undefined;

export interface PageChanges {
  problems: RowChange[];
  findings?: RowAction[];
}

/** Where the pages come from and what they mean. */
export interface PageScan<T> {
  pass: Promise<PartitionPass>;
  /** The pages from a token, `pageSize` items each; only the first page is read (each page is budgeted). */
  pages: (startToken: string | undefined, pageSize: number) => AsyncGenerator<Page<T>>;
  startToken: string | undefined;
  /** The page size the operations left can pay for (a page may cost lookups besides itself); < 1: none. */
  pageSizeFor: (operationsLeft: number) => number;
  changes: (items: T[], pass: PartitionPass) => Promise<PageChanges>;
  /** Passed to the progress callback after each page. */
  progress: { phase: 'groups' | 'individuals'; enrollmentGroupId?: string };
}

/** What the loop may do to the run: read its budget, write changes, move its cursor, report a page. */
export interface PageLoopRun {
  budget: Pick<RunBudget, 'exhausted' | 'operationsLeft'>;
  /** When it aborts, the loop stops at once and writes nothing more (a crash). */
  crashSignal: AbortSignal | undefined;
  /** Writes changes; throws when the run must not write any more (lease lost or expiring, crash). */
  write(changes: Required<PageChanges>): Promise<void>;
  /** The pages before `nextToken` are written (ScanCursor.pagesWritten). */
  pagesWritten(nextToken: string | undefined): void;
  /** After each page read: progress, and the checkpoint saved when a save is due. */
  pageRead(where: PageScan<unknown>['progress']): Promise<void>;
}

export interface PageScanResult {
  stop: Stop;
  pass: PartitionPass;
}

/** Entities gathered before a write: a full transaction when the changes fall in one partition and table. */
const WRITE_BATCH = 100;

/** The first page of a page sequence; the sequence is closed without fetching more. */
async function firstPage<T>(pages: AsyncGenerator<Page<T>>): Promise<Page<T>> {
  try {
    const next = await pages.next();
    return next.done ? { items: [], continuationToken: undefined } : next.value;
  } finally {
    await pages.return(undefined);
  }
}

/**
 * Reads pages from `startToken` on and stops before a page the budget cannot pay for. Changes are gathered over
 * pages into transactions of about WRITE_BATCH entities; one batch is written while the next pages are fetched.
 * The checkpoint's token moves past a page only once that page's writes are done.
 */
export async function scanPages<T>(run: PageLoopRun, spec: PageScan<T>): Promise<PageScanResult> {
  const { budget, crashSignal } = run;
  let writing: Promise<void> = Promise.resolve();
  let writeFailed = false;
  let writeError: unknown;
  let nextToken = spec.startToken;
  let buffer: Required<PageChanges> = { problems: [], findings: [] };
  let buffered = 0;
  let pass: PartitionPass | undefined;

  /** Starts writing the buffer (after the write before it); the checkpoint moves on when it is done. */
  const flush = () => {
    if (buffered === 0) return;
    const changes = buffer;
    const through = nextToken;
    const previous = writing;
    buffer = { problems: [], findings: [] };
    buffered = 0;
    writing = (async () => {
      await previous;
      if (writeFailed) return;
      await run.write(changes);
      run.pagesWritten(through);
    })().catch((error: unknown) => {
      writeFailed = true;
      writeError = error;
    });
  };
  const settle = async () => {
    await writing;
    if (writeFailed) throw writeError;
    if (buffered === 0) run.pagesWritten(nextToken);
  };

  spec.pass.catch(() => undefined); // awaited below; this only keeps an early rejection from going unhandled
  try {
    for (;;) {
      crashSignal?.throwIfAborted();
      const pageSize = spec.pageSizeFor(budget.operationsLeft());
      const stop = budget.exhausted(1) ?? (pageSize < 1 ? 'operations budget used' : undefined);
      if (stop) {
        flush();
        await settle();
        return { stop, pass: pass ?? (await spec.pass) };
      }
      const page = await firstPage(spec.pages(nextToken, pageSize));
      if (writeFailed) await settle();
      pass ??= await spec.pass;
      const changes = await spec.changes(page.items, pass);
      buffer.problems.push(...changes.problems);
      buffer.findings.push(...(changes.findings ?? []));
      buffered += changes.findings?.length ?? 0;
      for (const change of changes.problems) buffered += 1 + change.history.length;
      nextToken = page.continuationToken;
      await run.pageRead(spec.progress);
      if (nextToken === undefined) {
        flush();
        await settle();
        return { stop: undefined, pass };
      }
      if (buffered >= WRITE_BATCH) {
        await settle(); // one batch in flight at a time: memory stays flat when storage is the slower side
        flush();
      }
    }
  } catch (error) {
    // Keep what earlier pages found (their writes move the checkpoint on), unless the run is crashing.
    if (!crashSignal?.aborted) flush();
    await writing;
    throw error;
  } finally {
    await writing;
  }
}
