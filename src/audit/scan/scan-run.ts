// The work of one scan run: enrollment groups (findings, vanished groups), each group's registration states in
// key order, then the individual enrollments, from the checkpoint on, until the scan completes or a budget runs out.
// The pages themselves go through page-loop.ts.
import type { DpsClient, Page } from '../../dps/client';
import { DpsError, DpsNotFoundError } from '../../dps/errors';
import type { DeviceRegistrationState, IndividualEnrollment } from '../../dps/schemas';
import { groupPartition, INDIVIDUAL_PARTITION } from '../rows/keys';
import { observeRegistration } from '../rows/problems';
import type { AuditStore, RowAction } from '../store';
import type { RunBudget } from './budget';
import { redactSecrets } from '../../dps/redact';
import { runAttestationLogPass, type AttestationLogSource } from './attestation-log-pass';
import { LeaseLostError, type ScanLease } from './checkpoint';
import { findingEvents, problemEvents, type EventPublisher } from '../../events';
import type { RowChange } from '../rows/problems';
import {
  FindingsPass,
  findingsClearedWith,
  type FindingsSettings,
  type FindingTransition,
} from './findings-pass';
import { observeIndividual } from './individual-observation';
import { mapLimit } from '../../concurrency/map-limit';
import { scanPages, type PageLoopRun, type PageScan, type PageScanResult, type Stop } from './page-loop';
import {
  PartitionPass,
  writeChanges,
  type ObservedRegistration,
  type PassSettings,
  type ProblemCounters,
} from './partition-pass';
import type { ScanCursor } from './scan-cursor';

export interface RunCounters extends ProblemCounters {
  enrollmentGroupsRead: number;
  individualEnrollmentsRead: number;
}

export interface ScanProgress {
  runId: string;
  scanId: string;
  phase: 'groups' | 'individuals';
  /** The group being scanned (groups phase). */
  enrollmentGroupId?: string;
  /** Pages of registration states or individual enrollments read by this run so far. */
  pages: number;
  registrationsRead: number;
  /** Problem registrations seen by this run so far (new or already recorded). */
  problemsSeen: number;
}

export interface ScanRunContext {
  dps: DpsClient;
  store: AuditStore;
  lease: ScanLease;
  cursor: ScanCursor;
  budget: RunBudget;
  counters: RunCounters;
  runId: string;
  pageSize: number;
  assigningGraceMs: number;
  lookupConcurrency: number;
  checkpointIntervalMs: number;
  passSettings: PassSettings;
  findingsSettings: FindingsSettings;
  /** DPS's archived DeviceOperations logs, read at the start of every run; undefined: not configured. */
  attestationLog?: AttestationLogSource;
  /** Aborts DPS calls: the caller's signal or the run's deadline. */
  signal: AbortSignal;
  /** The caller's own signal: when it aborts, the run stops at once as in a crash. */
  crashSignal: AbortSignal | undefined;
  now: () => number;
  onProgress?: (progress: ScanProgress) => void | Promise<void>;
  log: (level: 'info' | 'warn', message: string) => void;
  /** Where the lifecycle events of what the run writes go (docs/events.md); undefined: none. */
  events?: EventPublisher;
}

interface GroupRef {
  id: string;
  key: string;
}

export class ScanRun {
  private pages = 0;
  private lastSaveMs: number;
  private readonly loopRun: PageLoopRun;
  /** A page's finding transitions, by the page's first findings action: published once that page is written. */
  private readonly pageTransitions = new WeakMap<RowAction, FindingTransition[]>();

  constructor(private readonly context: ScanRunContext) {
    this.lastSaveMs = context.now();
    const { store, cursor } = context;
    this.loopRun = {
      budget: context.budget,
      crashSignal: context.crashSignal,
      write: async ({ problems, findings }) => {
        this.assertWritable();
        await Promise.all([
          writeChanges(store, problems, this.assertWritable, this.publishProblems),
          store
            .write('findings', findings)
            .then(() =>
              this.publishFindings(findings.flatMap((action) => this.pageTransitions.get(action) ?? [])),
            ),
        ]);
      },
      pagesWritten: (nextToken) => cursor.pagesWritten(nextToken),
      pageRead: async (where) => {
        this.pages++;
        await this.saveCheckpointIfDue();
        await context.onProgress?.({
          runId: context.runId,
          scanId: cursor.scanId,
          ...where,
          pages: this.pages,
          registrationsRead: context.counters.registrationsRead,
          problemsSeen: context.counters.problemsSeen,
        });
      },
    };
  }

  /** Pages of registration states or individual enrollments this run read. */
  get pagesRead(): number {
    return this.pages;
  }

  /** Runs the scan from its checkpoint; resolves with the reason it stopped early, or undefined once complete. */
  async execute(): Promise<Stop> {
    const stop = await this.scanDps();
    // After the individual enrollments: a device refused for its enrollment's certificates has that row by now.
    await this.readAttestationLog();
    return stop;
  }

  private async scanDps(): Promise<Stop> {
    const groupsStop = await this.scanGroups();
    if (groupsStop) return groupsStop;
    const individualsStop = await this.scanIndividuals();
    if (individualsStop) return individualsStop;
    this.context.cursor.complete();
    return undefined;
  }

  /** Saves the checkpoint now (it renews the lease). */
  async saveCheckpoint(): Promise<void> {
    this.context.crashSignal?.throwIfAborted(); // a crashed run writes nothing more, its checkpoint included
    await this.context.lease.save(this.context.cursor.checkpoint());
    this.lastSaveMs = this.context.now();
  }

  private async saveCheckpointIfDue(): Promise<void> {
    if (this.context.now() - this.lastSaveMs >= this.context.checkpointIntervalMs)
      await this.saveCheckpoint();
  }

  /** After the problem rows are written (writeChanges). */
  private publishProblems = (changes: readonly RowChange[]): void => {
    const events = this.context.events;
    if (events?.enabled) this.publishing(() => events.publish(problemEvents(changes, events.source)));
  };

  /** After the findings rows are written. */
  private publishFindings(transitions: readonly FindingTransition[]): void {
    const events = this.context.events;
    if (events?.enabled && transitions.length > 0)
      this.publishing(() => events.publish(findingEvents(transitions, events.source)));
  }

  /** Events never fail the scan: the rows are written, and the tables remain the record. */
  private publishing(publish: () => void): void {
    try {
      publish();
    } catch (error) {
      this.context.log('warn', `Events not published: ${redactSecrets(String(error)).slice(0, 300)}`);
    }
  }

  private assertWritable = (): void => {
    this.context.crashSignal?.throwIfAborted();
    this.context.lease.assertHeld();
  };

  // ---- DPS's attestation logs ---------------------------------------------------------------------------------

  /**
   * Devices refused at attestation, from the logs appended since the last run; also after a run that stopped early.
   * A storage fault leaves the read position where it was, so the next run reads the same logs again.
   */
  private async readAttestationLog(): Promise<void> {
    const { attestationLog, store, passSettings, counters, signal, log } = this.context;
    if (!attestationLog) return;
    try {
      const result = await runAttestationLogPass({
        source: attestationLog,
        store,
        passSettings,
        counters,
        assertWritable: this.assertWritable,
        signal,
        publishProblems: this.publishProblems,
      });
      if (result.attempts > 0) {
        log(
          'info',
          `DPS attestation logs: ${result.attempts} attempts in ${result.blobsRead} blobs, ` +
            `${result.refusedDevices} devices refused${result.truncated ? ' (more next run)' : ''}.`,
        );
      }
      if (result.malformedLines > 0) {
        log('warn', `DPS attestation logs: ${result.malformedLines} lines that are not log records skipped.`);
      }
    } catch (error) {
      if (error instanceof LeaseLostError || this.context.crashSignal?.aborted) throw error;
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(
        'warn',
        `DPS attestation logs not read this run; the next run reads them from the same place. ${redactSecrets(text).slice(0, 500)}`,
      );
    }
  }

  // ---- enrollment groups ------------------------------------------------------------------------------------

  private async scanGroups(): Promise<Stop> {
    const { cursor } = this.context;
    if (cursor.phase !== 'groups') return undefined;
    const enumerated = await this.enumerateGroups();
    if (typeof enumerated === 'string') return enumerated;
    const startKey = cursor.groupKey ?? '';
    const groups = enumerated.filter((group) => group.key >= startKey);
    for (const [index, group] of groups.entries()) {
      const stop = await this.scanGroup(group, cursor.enterGroup(group.key));
      if (stop) return stop;
      cursor.groupDone(groups[index + 1]?.key);
      await this.saveCheckpointIfDue();
    }
    cursor.groupsDone();
    return undefined;
  }

  /**
   * Every enrollment group (a few pages: DPS allows 100 symmetric-key and 100 X.509 groups), sorted by key. Their
   * findings are diffed and written; groups the findings table knows but DPS no longer has are closed: their open
   * problems resolved as `enrollment-deleted`, then their findings row deleted.
   */
  private async enumerateGroups(): Promise<GroupRef[] | string> {
    const { dps, store, pageSize, signal, counters } = this.context;
    const findings = await FindingsPass.load(store, 'group', this.context.findingsSettings);
    const groups: GroupRef[] = [];
    const actions: RowAction[] = [];
    const transitions: FindingTransition[] = [];
    for await (const page of this.budgeted(dps.enrollmentGroupPages({ pageSize, signal }))) {
      if (typeof page === 'string') {
        this.assertWritable();
        await store.write('findings', actions);
        this.publishFindings(transitions);
        return page;
      }
      counters.enrollmentGroupsRead += page.items.length;
      actions.push(...findings.review(page.items, transitions));
      for (const group of page.items) {
        groups.push({ id: group.enrollmentGroupId, key: groupPartition(group.enrollmentGroupId) });
      }
    }
    this.assertWritable();
    await store.write('findings', actions);
    this.publishFindings(transitions);
    for (const vanished of findings.unseen(false, this.context.passSettings.scanStartedAt)) {
      const pass = await PartitionPass.load(
        store,
        vanished.rowKey,
        vanished.enrollmentId,
        this.context.passSettings,
        counters,
      );
      await writeChanges(
        store,
        pass.finish(false, 'enrollment-deleted'),
        this.assertWritable,
        this.publishProblems,
      );
      this.assertWritable();
      await store.write('findings', [['delete', vanished]]);
      this.publishFindings(findingsClearedWith(vanished, new Date(this.context.now())));
    }
    return groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Yields pages while the budget allows one more call; yields the stop reason instead when it does not. */
  private async *budgeted<T>(pages: AsyncIterable<Page<T>>): AsyncGenerator<Page<T> | string> {
    const iterator = pages[Symbol.asyncIterator]();
    try {
      for (;;) {
        const stop = this.context.budget.exhausted(1);
        if (stop) {
          yield stop;
          return;
        }
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.();
    }
  }

  private async scanGroup(group: GroupRef, resumeToken: string | undefined): Promise<Stop> {
    const { dps, store, pageSize, signal, passSettings, counters, assigningGraceMs, now } = this.context;
    const scan = (startToken: string | undefined) => {
      const pass = PartitionPass.load(store, group.key, group.id, passSettings, counters);
      return this.scanPages<DeviceRegistrationState>({
        pass,
        startToken,
        pages: (token, size) =>
          dps.registrationStatePages(group.id, { pageSize: size, startToken: token, signal }),
        pageSizeFor: (operationsLeft) => (operationsLeft >= 1 ? pageSize : 0),
        changes: async (items, partition) => ({
          problems: partition.observe(
            items.map((state) => ({
              registrationId: state.registrationId,
              observation: observeRegistration(state, now(), assigningGraceMs),
            })),
          ),
        }),
        progress: { phase: 'groups', enrollmentGroupId: group.id },
      });
    };
    let spanned = resumeToken !== undefined;
    let result: { stop: Stop; pass: PartitionPass };
    try {
      result = await scan(resumeToken);
    } catch (error) {
      if (error instanceof DpsNotFoundError) {
        // Deleted since the enumeration: the next run's enumeration closes its problems.
        this.context.log('warn', `Enrollment group ${group.id} disappeared during the scan; skipped.`);
        return undefined;
      }
      if (!(resumeToken !== undefined && error instanceof DpsError && error.status === 400)) throw error;
      // DPS refused the saved continuation token (expired?): scan the group again from its first page.
      this.context.log(
        'warn',
        `DPS refused the saved page token of group ${group.id}; rescanning the group.`,
      );
      this.context.cursor.restartGroup();
      spanned = false;
      result = await scan(undefined);
    }
    if (result.stop) return result.stop;
    await writeChanges(
      store,
      result.pass.finish(spanned, 'deleted'),
      this.assertWritable,
      this.publishProblems,
    );
    return undefined;
  }

  // ---- individual enrollments --------------------------------------------------------------------------------

  private async scanIndividuals(): Promise<Stop> {
    const { dps, store, pageSize, signal, passSettings, counters, lookupConcurrency, cursor } = this.context;
    if (cursor.phase !== 'individuals') return undefined;
    const resumeToken = cursor.resumeToken;
    const spanned = resumeToken !== undefined;
    const findingsPass = FindingsPass.load(store, 'individual', this.context.findingsSettings);
    const pass = PartitionPass.load(store, INDIVIDUAL_PARTITION, undefined, passSettings, counters);
    const result = await this.scanPages<IndividualEnrollment>({
      pass,
      startToken: resumeToken,
      pages: (token, size) => dps.individualEnrollmentPages({ pageSize: size, startToken: token, signal }),
      // DPS may leave registrationState out of query results (docs/dps-contract.md §2.6): one GET each then,
      // so a page is only as large as the operations left can pay for.
      pageSizeFor: (operationsLeft) => Math.min(pageSize, operationsLeft - 1),
      changes: async (items, partition) => {
        counters.individualEnrollmentsRead += items.length;
        const transitions: FindingTransition[] = [];
        const findings = (await findingsPass).review(items, transitions);
        if (findings[0] && transitions.length > 0) this.pageTransitions.set(findings[0], transitions);
        const states = await mapLimit(items, lookupConcurrency, (enrollment) =>
          enrollment.registrationState
            ? Promise.resolve(enrollment.registrationState)
            : this.registrationState(enrollment.registrationId),
        );
        const observed = items.map((enrollment, index): ObservedRegistration => ({
          registrationId: enrollment.registrationId,
          observation: observeIndividual(
            enrollment,
            states[index],
            this.context.now(),
            this.context.assigningGraceMs,
          ),
          stateRead: states[index] !== undefined,
        }));
        return { problems: partition.observe(observed), findings };
      },
      progress: { phase: 'individuals' },
    });
    if (result.stop) return result.stop;
    await writeChanges(
      store,
      result.pass.finish(spanned, 'enrollment-deleted'),
      this.assertWritable,
      this.publishProblems,
    );
    const stale = (await findingsPass).unseen(spanned, passSettings.scanStartedAt);
    this.assertWritable();
    await store.write(
      'findings',
      stale.map((row): RowAction => ['delete', row]),
    );
    const clearedAt = new Date(this.context.now());
    this.publishFindings(stale.flatMap((row) => findingsClearedWith(row, clearedAt)));
    return undefined;
  }

  /** An individual enrollment's registration state; undefined when the device never registered. */
  private async registrationState(registrationId: string): Promise<DeviceRegistrationState | undefined> {
    try {
      return await this.context.dps.getRegistrationState(registrationId, { signal: this.context.signal });
    } catch (error) {
      if (error instanceof DpsNotFoundError) return undefined;
      throw error;
    }
  }

  private scanPages<T>(spec: PageScan<T>): Promise<PageScanResult> {
    return scanPages(this.loopRun, spec);
  }
}
