// Applies the plan of each enrollment: GET, plan, (keys,) PUT with If-Match on the etag read. A 412 means someone
// changed the enrollment in between: read it again and redo the change on top of theirs, a few times at most.
import { setTimeout as delay } from 'node:timers/promises';
import { DpsError, DpsPreconditionFailedError, DpsUnauthorizedError } from '../../dps/errors';
import { redactSecrets } from '../../dps/redact';
import type { EnrollmentStore } from './enrollment-store';
import { ConfigureError } from './errors';
import {
  describeTarget,
  planEnrollment,
  type CreateSpec,
  type CustomAllocation,
  type EnrollmentPlan,
  type EnrollmentTarget,
  type FieldChange,
  type PlanAction,
} from './plan';

export interface ConfigureRequest {
  targets: readonly EnrollmentTarget[];
  allocation: CustomAllocation;
  /** Create missing enrollments like this (`--create`). */
  create?: CreateSpec;
  /** Plan and report only; write nothing. */
  dryRun: boolean;
}

export interface ApplyOptions {
  /** Re-reads after a 412 before giving up; default 3. */
  maxConflictRetries?: number;
  /**
   * Waits before retrying after 401/403: a DPS role assigned a moment ago (Entra ID) takes a while to apply.
   * Default none (right for SAS, where a 401 means a wrong key).
   */
  authRetryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  /** Called right before each PUT (tests use it to change the enrollment in between). */
  beforeWrite?: (plan: EnrollmentPlan, attempt: number) => Promise<void> | void;
  /** Progress notes (retries), display-safe. */
  onNote?: (message: string) => void;
}

export type OutcomeStatus = 'created' | 'updated' | 'unchanged' | 'failed';

export interface EnrollmentOutcome {
  target: EnrollmentTarget;
  /** What was (or, in a dry run, would be) done; `failed` with `error` otherwise. */
  status: OutcomeStatus;
  dryRun: boolean;
  /** The changed fields, display-safe (empty when unchanged or failed before planning). */
  changes: FieldChange[];
  /** Etag after the write (undefined for a dry run or when nothing was written). */
  etag?: string;
  /** Writes refused with 412 and redone. */
  conflicts: number;
  notes: string[];
  /** One-line reason, display-safe. */
  error?: string;
}

const STATUS_OF: Record<Exclude<PlanAction, 'unchanged'>, OutcomeStatus> = {
  create: 'created',
  update: 'updated',
};

async function configureOne(
  store: EnrollmentStore,
  target: EnrollmentTarget,
  request: ConfigureRequest,
  options: ApplyOptions,
): Promise<EnrollmentOutcome> {
  const maxConflictRetries = options.maxConflictRetries ?? 3;
  const authDelays = options.authRetryDelaysMs ?? [];
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  let conflicts = 0;
  let authRetries = 0;
  for (;;) {
    try {
      const current = await store.get(target);
      const plan = planEnrollment(target, current, request.allocation, request.create);
      const notes =
        request.create && plan.action !== 'create'
          ? [`it exists: --create options (hubs, edge, reprovision policy, keys) were not applied`]
          : [];
      const outcome = (status: OutcomeStatus, etag?: string): EnrollmentOutcome => ({
        target,
        status,
        dryRun: request.dryRun,
        changes: plan.changes,
        conflicts,
        notes,
        ...(etag === undefined ? {} : { etag }),
      });
      if (plan.action === 'unchanged') return outcome('unchanged');
      if (request.dryRun) return outcome(STATUS_OF[plan.action]);

      let body = plan.enrollment!;
      if (plan.action === 'update' && body.attestation.type === 'symmetricKey') {
        // GET leaves the keys out; writing the group without them would replace them.
        body = { ...body, attestation: await store.readAttestation(target) };
      }
      await options.beforeWrite?.(plan, conflicts + 1);
      const written = await store.put(target, body, plan.etag);
      return outcome(STATUS_OF[plan.action], written.etag ?? undefined);
    } catch (error) {
      if (error instanceof DpsPreconditionFailedError) {
        if (conflicts < maxConflictRetries) {
          conflicts++;
          options.onNote?.(`${describeTarget(target)} changed since it was read (412); reading it again`);
          continue;
        }
        throw new ConfigureError(
          `${describeTarget(target)} kept changing while configure wrote it (412 Precondition Failed ` +
            `${conflicts + 1} times); nothing was changed, run configure again`,
        );
      }
      // A 401/403 answer may be a role still propagating; no status means no token could be had at all.
      const refused = error instanceof DpsUnauthorizedError && error.status !== undefined;
      if (refused && authRetries < authDelays.length) {
        const waitMs = authDelays[authRetries++]!;
        options.onNote?.(
          `DPS refused access (a role assigned moments ago can take a while to apply); retrying in ` +
            `${Math.round(waitMs / 1000)} s`,
        );
        await sleep(waitMs);
        continue;
      }
      throw error;
    }
  }
}

const MAX_FAILURE_TEXT = 600;

/** One-line, secret-free text of an expected failure, with a hint for access problems. */
function failureText(error: ConfigureError | DpsError): string {
  let text = error.message.replace(/\s*\n\s*/g, ' ');
  if (text.length > MAX_FAILURE_TEXT) text = `${text.slice(0, MAX_FAILURE_TEXT)}...`;
  if (error instanceof DpsUnauthorizedError) {
    const hint =
      error.status === undefined
        ? "Sign in with 'az login' or 'azd auth login', or use --connection-string"
        : 'Check the connection string (it needs EnrollmentRead and EnrollmentWrite), or that your Entra ' +
          'identity has the "Device Provisioning Service Data Contributor" role on the DPS';
    text = `${text}${text.endsWith('.') ? '' : '.'} ${hint}`;
  }
  return redactSecrets(text);
}

/**
 * Configures each target in turn. Expected failures (missing enrollment, refused write, DPS errors) become a
 * `failed` outcome, so the other targets are still done; anything else is thrown.
 */
export async function configureEnrollments(
  store: EnrollmentStore,
  request: ConfigureRequest,
  options: ApplyOptions = {},
): Promise<EnrollmentOutcome[]> {
  const outcomes: EnrollmentOutcome[] = [];
  for (const target of request.targets) {
    try {
      outcomes.push(await configureOne(store, target, request, options));
    } catch (error) {
      if (!(error instanceof ConfigureError || error instanceof DpsError)) throw error;
      outcomes.push({
        target,
        status: 'failed',
        dryRun: request.dryRun,
        changes: [],
        conflicts: 0,
        notes: [],
        error: failureText(error),
      });
    }
  }
  return outcomes;
}
