// In-memory state of one emulated DPS instance: enrollment groups, individual enrollments and registration
// states. Ids are case-insensitive (stored under lower-case keys, displayed as first written); every write
// takes a new sequence number, from which the etag is derived; each group's registrations are kept in a
// sorted key set so that a page of a large group costs O(log n + page).
import type {
  EnrollmentGroup,
  IndividualEnrollment,
  InitialTwin,
  RegistrationStatus,
} from '../../src/dps/schemas';
import { EmulatorHttpError, ErrorCodes, preconditionFailed } from './errors';
import { etagMatches, formatEtag, idKey } from './ids';
import type { KeyPage } from './sorted-keys';
import { SortedKeySet } from './sorted-keys';

export type RegistrationSubstatus =
  'initialAssignment' | 'deviceDataMigrated' | 'deviceDataReset' | 'reprovisionedToInitialAssignment';

/** Server-managed fields that a client may send back but never sets. */
const SERVER_FIELDS = ['etag', 'createdDateTimeUtc', 'lastUpdatedDateTimeUtc', 'registrationState'] as const;

export interface StoredEnrollment<T> {
  readonly key: string;
  /** The enrollment as written by the client (keys included), without server-managed fields. */
  value: T;
  createdMs: number;
  updatedMs: number;
  sequence: number;
}

export type StoredGroup = StoredEnrollment<EnrollmentGroup>;
export type StoredIndividual = StoredEnrollment<IndividualEnrollment>;

export type EnrollmentRef =
  { kind: 'group'; group: StoredGroup } | { kind: 'individual'; individual: StoredIndividual };

/** One device registration; a class so that 100,000 of them share one hidden class and stay compact. */
export class RegistrationRecord {
  status: RegistrationStatus = 'unassigned';
  substatus: RegistrationSubstatus | undefined = undefined;
  /** The hub the device was last assigned to (kept after a failed re-registration). */
  assignedHub: string | undefined = undefined;
  deviceId: string | undefined = undefined;
  /** The first hub this device was assigned to (tells `reprovisionedToInitialAssignment` apart). */
  initialHub: string | undefined = undefined;
  errorCode: number | undefined = undefined;
  errorMessage: string | undefined = undefined;
  /** Payload returned by the custom allocation webhook, passed on to the device. */
  payload: Record<string, unknown> | undefined = undefined;
  /** The initial twin DPS would have written to the hub on the last assignment that applied one. */
  initialTwin: InitialTwin | undefined = undefined;
  createdMs: number;
  updatedMs: number;
  sequence = 0;
  /** Group key under which the record is indexed (undefined for individual enrollments). */
  indexedGroupKey: string | undefined = undefined;

  constructor(
    readonly registrationId: string,
    readonly key: string,
    /** Key of the enrollment group the device registered through; undefined for an individual enrollment. */
    public enrollmentGroupKey: string | undefined,
    nowMs: number,
  ) {
    this.createdMs = nowMs;
    this.updatedMs = nowMs;
  }

  get etag(): string {
    return formatEtag(this.sequence);
  }
}

/** The DeviceRegistrationState wire shape of a record (docs/dps-contract.md §2.3). */
export function presentRegistrationState(record: RegistrationRecord): Record<string, unknown> {
  const assigned = record.status === 'assigned';
  const failed = record.status === 'failed';
  return {
    registrationId: record.registrationId,
    createdDateTimeUtc: new Date(record.createdMs).toISOString(),
    assignedHub: assigned ? record.assignedHub : undefined,
    deviceId: assigned ? record.deviceId : undefined,
    status: record.status,
    substatus: assigned ? record.substatus : undefined,
    errorCode: failed ? record.errorCode : undefined,
    errorMessage: failed ? record.errorMessage : undefined,
    lastUpdatedDateTimeUtc: new Date(record.updatedMs).toISOString(),
    etag: record.etag,
    payload: assigned ? record.payload : undefined,
  };
}

export interface StoreSnapshot {
  sequence: number;
  groups: Array<{ value: EnrollmentGroup; createdMs: number; updatedMs: number; sequence: number }>;
  individuals: Array<{ value: IndividualEnrollment; createdMs: number; updatedMs: number; sequence: number }>;
  registrations: RegistrationSnapshot[];
}

export interface RegistrationSnapshot {
  registrationId: string;
  enrollmentGroupKey: string | undefined;
  status: RegistrationStatus;
  substatus: RegistrationSubstatus | undefined;
  assignedHub: string | undefined;
  deviceId: string | undefined;
  initialHub: string | undefined;
  errorCode: number | undefined;
  errorMessage: string | undefined;
  payload: Record<string, unknown> | undefined;
  initialTwin: InitialTwin | undefined;
  createdMs: number;
  updatedMs: number;
  sequence: number;
}

function withoutServerFields<T extends object>(value: T): T {
  const copy = { ...value } as Record<string, unknown>;
  for (const field of SERVER_FIELDS) delete copy[field];
  return copy as T;
}

export class EmulatorStore {
  private sequence = 0;
  private readonly groups = new Map<string, StoredGroup>();
  private readonly groupKeys = new SortedKeySet();
  private readonly individuals = new Map<string, StoredIndividual>();
  private readonly individualKeys = new SortedKeySet();
  private readonly registrations = new Map<string, RegistrationRecord>();
  private readonly groupRegistrations = new Map<string, SortedKeySet>();
  private readonly changeListeners: Array<() => void> = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Called after every write (persistence debounces on it). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  private nextSequence(): number {
    this.sequence += 1;
    return this.sequence;
  }

  get counts(): { groups: number; individualEnrollments: number; registrations: number } {
    return {
      groups: this.groups.size,
      individualEnrollments: this.individuals.size,
      registrations: this.registrations.size,
    };
  }

  // ---- enrollment groups -------------------------------------------------------------------------------

  getGroup(groupId: string): StoredGroup | undefined {
    return this.groups.get(idKey(groupId));
  }

  requireGroup(groupId: string): StoredGroup {
    const group = this.getGroup(groupId);
    if (!group) {
      throw new EmulatorHttpError(
        404,
        ErrorCodes.enrollmentNotFound,
        `Enrollment group '${groupId}' not found`,
      );
    }
    return group;
  }

  /** Creates or replaces a group; `ifMatch` as the HTTP header (412 on mismatch). */
  putGroup(group: EnrollmentGroup, ifMatch?: string): { stored: StoredGroup; created: boolean } {
    const key = idKey(group.enrollmentGroupId);
    const existing = this.groups.get(key);
    checkIfMatch(ifMatch, existing, `Enrollment group '${group.enrollmentGroupId}'`);
    const nowMs = this.now();
    const value = withoutServerFields(group);
    if (existing) {
      // The id keeps the case it was first written with.
      value.enrollmentGroupId = existing.value.enrollmentGroupId;
      existing.value = value;
      existing.updatedMs = nowMs;
      existing.sequence = this.nextSequence();
      this.changed();
      return { stored: existing, created: false };
    }
    const stored: StoredGroup = {
      key,
      value,
      createdMs: nowMs,
      updatedMs: nowMs,
      sequence: this.nextSequence(),
    };
    this.groups.set(key, stored);
    this.groupKeys.add(key);
    this.changed();
    return { stored, created: true };
  }

  /** Deletes a group and the registration states of its devices. */
  deleteGroup(groupId: string, ifMatch?: string): void {
    const stored = this.requireGroup(groupId);
    checkIfMatch(ifMatch, stored, `Enrollment group '${groupId}'`);
    const members = this.groupRegistrations.get(stored.key);
    if (members) for (const key of members.values()) this.registrations.delete(key);
    this.groupRegistrations.delete(stored.key);
    this.groups.delete(stored.key);
    this.groupKeys.delete(stored.key);
    this.changed();
  }

  pageGroups(afterKey: string | undefined, limit: number): { items: StoredGroup[]; hasMore: boolean } {
    return resolvePage(this.groupKeys.page(afterKey, limit), this.groups);
  }

  /** Every group, in id order (for device authentication: symmetric-key groups are few, DPS allows 100). */
  allGroups(): StoredGroup[] {
    return this.groupKeys.values().map((key) => this.groups.get(key)!);
  }

  // ---- individual enrollments ---------------------------------------------------------------------------

  getIndividual(registrationId: string): StoredIndividual | undefined {
    return this.individuals.get(idKey(registrationId));
  }

  requireIndividual(registrationId: string): StoredIndividual {
    const individual = this.getIndividual(registrationId);
    if (!individual) {
      throw new EmulatorHttpError(
        404,
        ErrorCodes.enrollmentNotFound,
        `Enrollment '${registrationId}' not found`,
      );
    }
    return individual;
  }

  putIndividual(
    enrollment: IndividualEnrollment,
    ifMatch?: string,
  ): { stored: StoredIndividual; created: boolean } {
    const key = idKey(enrollment.registrationId);
    const existing = this.individuals.get(key);
    checkIfMatch(ifMatch, existing, `Enrollment '${enrollment.registrationId}'`);
    const nowMs = this.now();
    const value = withoutServerFields(enrollment);
    if (existing) {
      value.registrationId = existing.value.registrationId;
      existing.value = value;
      existing.updatedMs = nowMs;
      existing.sequence = this.nextSequence();
      this.changed();
      return { stored: existing, created: false };
    }
    const stored: StoredIndividual = {
      key,
      value,
      createdMs: nowMs,
      updatedMs: nowMs,
      sequence: this.nextSequence(),
    };
    this.individuals.set(key, stored);
    this.individualKeys.add(key);
    this.changed();
    return { stored, created: true };
  }

  /** Deletes an individual enrollment and its registration state. */
  deleteIndividual(registrationId: string, ifMatch?: string): void {
    const stored = this.requireIndividual(registrationId);
    checkIfMatch(ifMatch, stored, `Enrollment '${registrationId}'`);
    const record = this.registrations.get(stored.key);
    if (record && record.enrollmentGroupKey === undefined) this.registrations.delete(stored.key);
    this.individuals.delete(stored.key);
    this.individualKeys.delete(stored.key);
    this.changed();
  }

  pageIndividuals(
    afterKey: string | undefined,
    limit: number,
  ): { items: StoredIndividual[]; hasMore: boolean } {
    return resolvePage(this.individualKeys.page(afterKey, limit), this.individuals);
  }

  // ---- registration states ------------------------------------------------------------------------------

  getRegistration(registrationId: string): RegistrationRecord | undefined {
    return this.registrations.get(idKey(registrationId));
  }

  requireRegistration(registrationId: string): RegistrationRecord {
    const record = this.getRegistration(registrationId);
    if (!record) {
      throw new EmulatorHttpError(
        404,
        ErrorCodes.registrationNotFound,
        `Registration '${registrationId}' not found`,
      );
    }
    return record;
  }

  /** A new, unsaved record for a device of a group (groupKey) or of an individual enrollment. */
  newRegistration(registrationId: string, groupKey: string | undefined): RegistrationRecord {
    return new RegistrationRecord(registrationId, idKey(registrationId), groupKey, this.now());
  }

  /** Stores a record after a change: new etag and update time, group index kept in step. */
  saveRegistration(record: RegistrationRecord, updatedMs = this.now()): void {
    record.sequence = this.nextSequence();
    record.updatedMs = updatedMs;
    this.registrations.set(record.key, record);
    this.indexRegistration(record);
    this.changed();
  }

  private indexRegistration(record: RegistrationRecord): void {
    if (record.indexedGroupKey === record.enrollmentGroupKey) {
      if (record.indexedGroupKey !== undefined) this.membersOf(record.indexedGroupKey).add(record.key);
      return;
    }
    if (record.indexedGroupKey !== undefined) {
      this.groupRegistrations.get(record.indexedGroupKey)?.delete(record.key);
    }
    if (record.enrollmentGroupKey !== undefined) this.membersOf(record.enrollmentGroupKey).add(record.key);
    record.indexedGroupKey = record.enrollmentGroupKey;
  }

  private membersOf(groupKey: string): SortedKeySet {
    let members = this.groupRegistrations.get(groupKey);
    if (!members) {
      members = new SortedKeySet();
      this.groupRegistrations.set(groupKey, members);
    }
    return members;
  }

  /**
   * Adds many new records at once (seeding, loading): one sort per group instead of n sorted inserts.
   * Records must not exist yet; each takes a fresh sequence number.
   */
  bulkInsertRegistrations(records: readonly RegistrationRecord[], keepSequences = false): void {
    const byGroup = new Map<string, string[]>();
    for (const record of records) {
      if (!keepSequences) record.sequence = this.nextSequence();
      else if (record.sequence > this.sequence) this.sequence = record.sequence;
      const previous = this.registrations.get(record.key);
      if (previous?.indexedGroupKey !== undefined) {
        this.groupRegistrations.get(previous.indexedGroupKey)?.delete(previous.key);
      }
      this.registrations.set(record.key, record);
      record.indexedGroupKey = record.enrollmentGroupKey;
      if (record.enrollmentGroupKey === undefined) continue;
      let keys = byGroup.get(record.enrollmentGroupKey);
      if (!keys) byGroup.set(record.enrollmentGroupKey, (keys = []));
      keys.push(record.key);
    }
    for (const [groupKey, keys] of byGroup) this.membersOf(groupKey).addMany(keys);
    this.changed();
  }

  deleteRegistration(registrationId: string, ifMatch?: string): void {
    const record = this.requireRegistration(registrationId);
    if (ifMatch !== undefined && !etagMatches(ifMatch, record.etag)) {
      throw preconditionFailed(`Registration '${registrationId}': the etag does not match`);
    }
    this.registrations.delete(record.key);
    if (record.indexedGroupKey !== undefined) {
      this.groupRegistrations.get(record.indexedGroupKey)?.delete(record.key);
    }
    this.changed();
  }

  /** A page of a group's registration states, in registration id order. */
  pageGroupRegistrations(
    groupKey: string,
    afterKey: string | undefined,
    limit: number,
  ): { items: RegistrationRecord[]; hasMore: boolean } {
    const members = this.groupRegistrations.get(groupKey);
    if (!members) return { items: [], hasMore: false };
    return resolvePage(members.page(afterKey, limit), this.registrations);
  }

  groupRegistrationCount(groupId: string): number {
    return this.groupRegistrations.get(idKey(groupId))?.size ?? 0;
  }

  /** Resolves an enrollment by reference (used by the provisioning flow). */
  enrollmentOf(record: RegistrationRecord): EnrollmentRef | undefined {
    if (record.enrollmentGroupKey !== undefined) {
      const group = this.groups.get(record.enrollmentGroupKey);
      return group && { kind: 'group', group };
    }
    const individual = this.individuals.get(record.key);
    return individual && { kind: 'individual', individual };
  }

  clear(): void {
    this.groups.clear();
    this.groupKeys.clear();
    this.individuals.clear();
    this.individualKeys.clear();
    this.registrations.clear();
    this.groupRegistrations.clear();
    this.changed();
  }

  // ---- persistence --------------------------------------------------------------------------------------

  snapshot(): StoreSnapshot {
    const enrollment = <T>(stored: StoredEnrollment<T>) => ({
      value: stored.value,
      createdMs: stored.createdMs,
      updatedMs: stored.updatedMs,
      sequence: stored.sequence,
    });
    const registrations: RegistrationSnapshot[] = [];
    for (const record of this.registrations.values()) {
      registrations.push({
        registrationId: record.registrationId,
        enrollmentGroupKey: record.enrollmentGroupKey,
        status: record.status,
        substatus: record.substatus,
        assignedHub: record.assignedHub,
        deviceId: record.deviceId,
        initialHub: record.initialHub,
        errorCode: record.errorCode,
        errorMessage: record.errorMessage,
        payload: record.payload,
        initialTwin: record.initialTwin,
        createdMs: record.createdMs,
        updatedMs: record.updatedMs,
        sequence: record.sequence,
      });
    }
    return {
      sequence: this.sequence,
      groups: [...this.groups.values()].map(enrollment),
      individuals: [...this.individuals.values()].map(enrollment),
      registrations,
    };
  }

  /** Replaces the whole state with a snapshot (from the data file). */
  restore(snapshot: StoreSnapshot): void {
    this.clear();
    for (const group of snapshot.groups) {
      const key = idKey(group.value.enrollmentGroupId);
      this.groups.set(key, { key, ...group });
    }
    this.groupKeys.addMany([...this.groups.keys()]);
    for (const individual of snapshot.individuals) {
      const key = idKey(individual.value.registrationId);
      this.individuals.set(key, { key, ...individual });
    }
    this.individualKeys.addMany([...this.individuals.keys()]);
    const records = snapshot.registrations.map((saved) => {
      const record = new RegistrationRecord(
        saved.registrationId,
        idKey(saved.registrationId),
        saved.enrollmentGroupKey,
        saved.createdMs,
      );
      Object.assign(record, saved);
      return record;
    });
    this.bulkInsertRegistrations(records, true);
    this.sequence = Math.max(this.sequence, snapshot.sequence);
  }
}

function checkIfMatch(
  ifMatch: string | undefined,
  existing: { sequence: number } | undefined,
  what: string,
): void {
  if (ifMatch === undefined) return;
  if (!existing) throw preconditionFailed(`${what} does not exist, so If-Match cannot match`);
  if (!etagMatches(ifMatch, formatEtag(existing.sequence))) {
    throw preconditionFailed(`${what}: the etag does not match`);
  }
}

function resolvePage<T>(page: KeyPage, map: ReadonlyMap<string, T>): { items: T[]; hasMore: boolean } {
  const items: T[] = [];
  for (const key of page.keys) {
    const item = map.get(key);
    if (item !== undefined) items.push(item);
  }
  return { items, hasMore: page.hasMore };
}
