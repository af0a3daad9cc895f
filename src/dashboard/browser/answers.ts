// The JSON the page reads from the app's endpoints: only the fields it uses, each one `unknown` until a check in
// main.ts has looked at it. The endpoints are this app's own, but the page draws whatever comes back as text and
// never trusts a type it has not checked (a proxy error page or an older app answers differently).

/** A JSON object as parsed: any field may be missing or of any type. */
export type Json = { readonly [field: string]: unknown };

/** The fields `Name` of a JSON object, each still to be checked. */
export type Answer<Name extends string> = { readonly [Field in Name]?: unknown };

/** GET /api/audit/summary */
export type Summary = Answer<
  'open' | 'groupsWithProblems' | 'resolvedRecently' | 'byStatus' | 'byErrorCode' | 'byGroup'
>;
export type StatusCount = Answer<'status' | 'count'>;
export type ErrorCodeCount = Answer<'errorCode' | 'count' | 'explanation'>;
export type GroupCount = Answer<'enrollmentKind' | 'enrollmentId' | 'count'>;

/** GET /api/audit/scans: the latest runs, newest first, and where the scan stands. */
export type Scans = Answer<'items' | 'state'>;
export type ScanRun = Answer<
  | 'startedAt'
  | 'outcome'
  | 'detail'
  | 'resumeFrom'
  | 'durationMs'
  | 'registrationsRead'
  | 'problemsFound'
  | 'problemsResolved'
>;
export type ScanState = Answer<
  'running' | 'leaseExpiresAt' | 'scanId' | 'runs' | 'scanStartedAt' | 'phase' | 'group'
>;

/** GET /api/audit/transitions: status changes, newest first. */
export type Transitions = Answer<'items' | 'truncated'>;
export type Transition = Answer<
  'at' | 'fromStatus' | 'toStatus' | 'enrollmentKind' | 'enrollmentId' | 'registrationId' | 'errorCode'
>;

/** GET /api/decisions/summary: allocation outcomes and hubs over a window. */
export type DecisionSummary = Answer<'total' | 'outcomes' | 'since' | 'hubs'>;
export type Outcomes = Answer<'assigned' | 'rejected' | 'invalid-request'>;
export type HubCount = Answer<'hub' | 'count'>;

/** GET /api/decisions, its pages followed: `more` says a further page was left unread. */
export type Decisions = Answer<'items' | 'more'>;
export type Decision = Answer<
  'at' | 'enrollmentKind' | 'enrollmentId' | 'registrationId' | 'rule' | 'reason'
>;

/** GET /api/hubs: each hub's device count and its age, next to the policy's cap and drain flag. */
export type HubLoad = Answer<'hubs' | 'maxAgeSeconds' | 'policyError'>;
export type HubLoadEntry = Answer<
  | 'hostName'
  | 'alias'
  | 'counted'
  | 'devices'
  | 'maxDevices'
  | 'fill'
  | 'drain'
  | 'readAt'
  | 'ageSeconds'
  | 'stale'
  | 'lastError'
>;

/**
 * GET /api/trends?days=N: the daily roll-up over the last N UTC days, every day present (zeros when nothing
 * happened), oldest first; `updatedAt` says when each half was last written.
 */
export type Trends = Answer<'days' | 'from' | 'to' | 'problems' | 'allocations' | 'hubs' | 'updatedAt'>;
/** A day of problems: `opened` and `resolved` each hold a `total` (and breakdowns the page does not draw). */
export type TrendProblemDay = Answer<'day' | 'opened' | 'resolved'>;
/** A day of allocation requests: `byOutcome` like Outcomes, `byHub` a count per hub host name. */
export type TrendAllocationDay = Answer<'day' | 'total' | 'byOutcome' | 'byHub'>;

/** One page of a list endpoint: `next` is the link to the following page, if any. */
export type ListPage = Answer<'items' | 'next'>;

/** The body of an error answer. */
export type ErrorBody = Answer<'error'>;
