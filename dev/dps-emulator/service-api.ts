// The DPS service API, api-version 2021-10-01 (docs/dps-contract.md §2): enrollment groups, individual
// enrollments and registration states, with etags, paging (`x-ms-max-item-count` / `x-ms-continuation`) and
// the rights of the caller's shared access policy.
import { querySpecificationSchema } from '../../src/dps/schemas';
import type { LinkedHub } from './allocation';
import type { ServiceAuthContext, ServiceRight } from './auth';
import { authorizeServiceCall } from './auth';
import { runBulkOperation } from './bulk-enrollments';
import { prepareEnrollmentGroup, prepareIndividualEnrollment, presentEnrollment } from './enrollments';
import { badRequest } from './errors';
import { assertValidId, decodePathSegment, idKey } from './ids';
import type { HttpAnswer, RequestContext, RouteMatch } from './routing';
import { headerValue, jsonBody, literal, methodNotAllowed, requireApiVersion } from './routing';
import { decodeContinuationToken, encodeContinuationToken } from './sorted-keys';
import type { EmulatorStore } from './store';
import { presentRegistrationState } from './store';

export interface PagingSettings {
  /** Page size when the caller sends no `x-ms-max-item-count` (DPS's own default is UNCONFIRMED). */
  defaultPageSize: number;
  /** Larger requested page sizes are clamped to this. */
  maxPageSize: number;
}

export interface ServiceApiDeps {
  store: EmulatorStore;
  linkedHubs: () => readonly LinkedHub[];
  authContext: () => ServiceAuthContext;
  paging: PagingSettings;
}

interface PageRequest {
  afterKey: string | undefined;
  limit: number;
}

function pageRequest(context: RequestContext, paging: PagingSettings): PageRequest {
  const sizeHeader = headerValue(context, 'x-ms-max-item-count');
  let limit = paging.defaultPageSize;
  if (sizeHeader !== undefined && sizeHeader !== '') {
    if (!/^\d+$/.test(sizeHeader.trim()) || Number(sizeHeader) < 1) {
      throw badRequest('x-ms-max-item-count must be a positive integer');
    }
    limit = Math.min(Number(sizeHeader), paging.maxPageSize);
  }
  const token = headerValue(context, 'x-ms-continuation');
  return { afterKey: token ? decodeContinuationToken(token) : undefined, limit };
}

function pageAnswer<T>(
  items: T[],
  hasMore: boolean,
  keyOf: (item: T) => string,
  itemType: string,
  limit: number,
  present: (item: T) => unknown,
): HttpAnswer {
  const headers: Record<string, string> = {
    'x-ms-item-type': itemType,
    'x-ms-max-item-count': String(limit),
  };
  const last = items[items.length - 1];
  if (hasMore && last !== undefined) headers['x-ms-continuation'] = encodeContinuationToken(keyOf(last));
  return { status: 200, body: items.map(present), headers };
}

/** `{"query": "*"}` or `SELECT * FROM ...`; DPS supports no filtering (WHERE), so neither does the emulator. */
function checkQuerySpecification(context: RequestContext, required: boolean): void {
  const body = jsonBody(context, !required);
  if (body === undefined) return;
  const parsed = querySpecificationSchema.safeParse(body);
  if (!parsed.success) throw badRequest('The body must be a QuerySpecification: {"query": "..."}');
  if (/\bwhere\b/i.test(parsed.data.query)) throw badRequest('Query filters (WHERE) are not supported');
}

function ifMatchOf(context: RequestContext): string | undefined {
  const value = headerValue(context, 'if-match');
  return value === undefined || value.trim() === '' ? undefined : value;
}

type Collection = 'enrollmentGroups' | 'enrollments' | 'registrations';

export function matchServiceRoute(
  method: string,
  segments: readonly string[],
  deps: ServiceApiDeps,
): RouteMatch | undefined {
  const [first, second, third, ...rest] = segments;
  const collection = (['enrollmentGroups', 'enrollments', 'registrations'] as const).find((name) =>
    literal(first, name),
  );
  if (!collection || rest.length > 0) return undefined;
  const route = (
    name: string,
    right: ServiceRight,
    run: (context: RequestContext) => HttpAnswer,
  ): RouteMatch => ({
    name: `service.${collection}.${name}`,
    api: 'service',
    handle: (context) => {
      requireApiVersion(context);
      authorizeServiceCall(
        headerValue(context, 'authorization'),
        method,
        context.path,
        right,
        deps.authContext(),
      );
      return run(context);
    },
  });

  if (second === undefined || second === '') {
    // POST /enrollments and /enrollmentGroups (with or without a trailing slash): bulk operations.
    if (third !== undefined || collection === 'registrations') return undefined;
    return method === 'POST'
      ? route('bulk', 'EnrollmentWrite', (context) =>
          runBulkOperation(
            collection === 'enrollmentGroups',
            jsonBody(context),
            deps.store,
            deps.linkedHubs(),
          ),
        )
      : methodNotAllowed(`service.${collection}.bulk`, 'service', ['POST']);
  }

  if (third === undefined) {
    if (collection !== 'registrations' && literal(second, 'query')) {
      return method === 'POST'
        ? route('query', 'EnrollmentRead', (context) => queryEnrollments(collection, context, deps))
        : methodNotAllowed(`service.${collection}.query`, 'service', ['POST']);
    }
    const id = () => decodePathSegment(second, 'The id');
    return entityRoute(collection, method, id, route, deps);
  }
  if (collection === 'registrations' && literal(third, 'query')) {
    return method === 'POST'
      ? route('query', 'RegistrationStatusRead', (context) =>
          queryRegistrations(decodePathSegment(second, 'The enrollment group id'), context, deps),
        )
      : methodNotAllowed('service.registrations.query', 'service', ['POST']);
  }
  if (collection !== 'registrations' && literal(third, 'attestationmechanism')) {
    // Reading keys is treated as a write-level right: a read-only monitor never needs them.
    return method === 'POST'
      ? route('attestation', 'EnrollmentWrite', () => {
          const id = decodePathSegment(second, 'The id');
          const attestation =
            collection === 'enrollmentGroups'
              ? deps.store.requireGroup(id).value.attestation
              : deps.store.requireIndividual(id).value.attestation;
          return { status: 200, body: attestation };
        })
      : methodNotAllowed(`service.${collection}.attestation`, 'service', ['POST']);
  }
  return undefined;
}

function entityRoute(
  collection: Collection,
  method: string,
  id: () => string,
  route: (name: string, right: ServiceRight, run: (context: RequestContext) => HttpAnswer) => RouteMatch,
  deps: ServiceApiDeps,
): RouteMatch {
  const store = deps.store;
  if (collection === 'registrations') {
    if (method === 'GET') {
      return route('get', 'RegistrationStatusRead', () => ({
        status: 200,
        body: presentRegistrationState(store.requireRegistration(id())),
      }));
    }
    if (method === 'DELETE') {
      return route('delete', 'RegistrationStatusWrite', (context) => {
        store.deleteRegistration(id(), ifMatchOf(context));
        return { status: 204 };
      });
    }
    return methodNotAllowed('service.registrations.entity', 'service', ['GET', 'DELETE']);
  }
  const groups = collection === 'enrollmentGroups';
  if (method === 'GET') {
    return route('get', 'EnrollmentRead', () => {
      if (groups)
        return { status: 200, body: presentEnrollment(store.requireGroup(id()), { includeKeys: false }) };
      const stored = store.requireIndividual(id());
      const record = store.getRegistration(stored.value.registrationId);
      const extra =
        record && record.enrollmentGroupKey === undefined
          ? { registrationState: presentRegistrationState(record) }
          : undefined;
      return { status: 200, body: presentEnrollment(stored, { includeKeys: false, extra }) };
    });
  }
  if (method === 'PUT') {
    return route('put', 'EnrollmentWrite', (context) => {
      const pathId = id();
      assertValidId(pathId, groups ? 'enrollmentGroupId' : 'registrationId');
      const body = jsonBody(context);
      const written = groups
        ? presentEnrollment(
            store.putGroup(
              prepareEnrollmentGroup(
                body,
                pathId,
                deps.linkedHubs(),
                (existingId) => store.getGroup(existingId)?.value.attestation,
              ),
              ifMatchOf(context),
            ).stored,
            { includeKeys: true },
          )
        : presentEnrollment(
            store.putIndividual(
              prepareIndividualEnrollment(
                body,
                pathId,
                deps.linkedHubs(),
                (existingId) => store.getIndividual(existingId)?.value.attestation,
              ),
              ifMatchOf(context),
            ).stored,
            { includeKeys: true },
          );
      return { status: 200, body: written };
    });
  }
  if (method === 'DELETE') {
    return route('delete', 'EnrollmentWrite', (context) => {
      if (groups) store.deleteGroup(id(), ifMatchOf(context));
      else store.deleteIndividual(id(), ifMatchOf(context));
      return { status: 204 };
    });
  }
  return methodNotAllowed(`service.${collection}.entity`, 'service', ['GET', 'PUT', 'DELETE']);
}

function queryEnrollments(collection: Collection, context: RequestContext, deps: ServiceApiDeps): HttpAnswer {
  checkQuerySpecification(context, true);
  const { afterKey, limit } = pageRequest(context, deps.paging);
  if (collection === 'enrollmentGroups') {
    const page = deps.store.pageGroups(afterKey, limit);
    return pageAnswer(
      page.items,
      page.hasMore,
      (item) => item.key,
      'EnrollmentGroup',
      limit,
      (item) => presentEnrollment(item, { includeKeys: false }),
    );
  }
  const page = deps.store.pageIndividuals(afterKey, limit);
  return pageAnswer(
    page.items,
    page.hasMore,
    (item) => item.key,
    'Enrollment',
    limit,
    (item) => presentEnrollment(item, { includeKeys: false }),
  );
}

/**
 * Registration states of one group, in registration id order. An unknown group is a 404 (what DPS does
 * here is UNCONFIRMED; it may answer an empty list).
 */
function queryRegistrations(groupId: string, context: RequestContext, deps: ServiceApiDeps): HttpAnswer {
  checkQuerySpecification(context, false);
  const group = deps.store.requireGroup(groupId);
  const { afterKey, limit } = pageRequest(context, deps.paging);
  const page = deps.store.pageGroupRegistrations(idKey(group.value.enrollmentGroupId), afterKey, limit);
  return pageAnswer(
    page.items,
    page.hasMore,
    (item) => item.key,
    'DeviceRegistration',
    limit,
    presentRegistrationState,
  );
}
