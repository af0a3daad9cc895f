// Bulk enrollment operations of the service API (docs/dps-contract.md §2.1): `POST /enrollments` and
// `POST /enrollmentGroups` (with or without a trailing slash: the Node service SDK sends one) with
// `{mode, enrollments | enrollmentGroups}`, at most 10 per call, modes create / update / updateIfMatchETag / delete.
// Each item is applied on its own; the answer says which failed: `{isSuccessful, errors[{id, errorCode,
// errorStatus}]}`. Whether DPS applies the others when one fails is UNCONFIRMED (the emulator does).
import { z } from 'zod';
import type { LinkedHub } from './allocation';
import { prepareEnrollmentGroup, prepareIndividualEnrollment } from './enrollments';
import { badRequest, EmulatorHttpError, ErrorCodes } from './errors';
import type { HttpAnswer } from './routing';
import type { EmulatorStore } from './store';

/** Records one bulk call takes (docs/dps-contract.md §2.1). */
export const MAX_BULK_ITEMS = 10;
export const BULK_MODES = ['create', 'update', 'updateIfMatchETag', 'delete'] as const;
type BulkMode = (typeof BULK_MODES)[number];

const itemsSchema = z.array(z.record(z.string(), z.unknown()));
const individualsSchema = z.object({ mode: z.enum(BULK_MODES), enrollments: itemsSchema });
const groupsSchema = z.object({ mode: z.enum(BULK_MODES), enrollmentGroups: itemsSchema });

interface BulkError {
  errorCode: number;
  errorStatus: string;
}

/** Runs one bulk operation on individual enrollments (`groups` false) or enrollment groups. */
export function runBulkOperation(
  groups: boolean,
  body: unknown,
  store: EmulatorStore,
  linkedHubs: readonly LinkedHub[],
): HttpAnswer {
  const parsed = (groups ? groupsSchema : individualsSchema).safeParse(body);
  if (!parsed.success) {
    const list = groups ? 'enrollmentGroups' : 'enrollments';
    throw badRequest(
      `The body must be {"mode": ${BULK_MODES.map((m) => `"${m}"`).join(' | ')}, "${list}": [...]}`,
    );
  }
  const mode = parsed.data.mode;
  const items = 'enrollmentGroups' in parsed.data ? parsed.data.enrollmentGroups : parsed.data.enrollments;
  if (items.length === 0 || items.length > MAX_BULK_ITEMS) {
    throw badRequest(`A bulk operation takes 1 to ${MAX_BULK_ITEMS} enrollments, not ${items.length}`);
  }
  const idField = groups ? 'enrollmentGroupId' : 'registrationId';
  const errors: (BulkError & Record<string, string | number>)[] = [];
  for (const item of items) {
    const id = typeof item[idField] === 'string' ? item[idField] : '';
    try {
      applyItem(groups, mode, id, item, store, linkedHubs);
    } catch (error) {
      if (!(error instanceof EmulatorHttpError)) throw error;
      errors.push({ [idField]: id, errorCode: error.errorCode, errorStatus: error.message });
    }
  }
  return { status: 200, body: { isSuccessful: errors.length === 0, errors } };
}

function applyItem(
  groups: boolean,
  mode: BulkMode,
  id: string,
  item: Record<string, unknown>,
  store: EmulatorStore,
  linkedHubs: readonly LinkedHub[],
): void {
  const existing = groups ? store.getGroup(id) : store.getIndividual(id);
  const what = groups ? `Enrollment group '${id.slice(0, 140)}'` : `Enrollment '${id.slice(0, 140)}'`;
  if (mode === 'delete') {
    if (groups) store.deleteGroup(id);
    else store.deleteIndividual(id);
    return;
  }
  if (mode === 'create' && existing) {
    throw new EmulatorHttpError(409, ErrorCodes.conflict, `${what} already exists`);
  }
  const ifMatch = mode === 'updateIfMatchETag' ? String(item.etag ?? '') : undefined;
  if (ifMatch === '') throw badRequest(`${what}: updateIfMatchETag needs the enrollment's etag`);
  if (groups)
    store.putGroup(
      prepareEnrollmentGroup(
        item,
        undefined,
        linkedHubs,
        (existingId) => store.getGroup(existingId)?.value.attestation,
      ),
      ifMatch,
    );
  else
    store.putIndividual(
      prepareIndividualEnrollment(
        item,
        undefined,
        linkedHubs,
        (existingId) => store.getIndividual(existingId)?.value.attestation,
      ),
      ifMatch,
    );
}
