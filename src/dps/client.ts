// DPS service client (api-version 2021-10-01, docs/dps-contract.md §2): enrollment groups, individual
// enrollments and registration states, with paging, retries, an operations budget and typed errors.
import type { TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { authorizerFor, type DpsAuthorizer } from './auth';
import { systemClock, type Clock } from './clock';
import { DpsError, DpsUnauthorizedError, errorFromResponse } from './errors';
import {
  DpsHttp,
  originForHost,
  type DpsHttpOptions,
  type DpsHttpRequest,
  type DpsHttpResponse,
} from './http';
import { iterateItems, iteratePages, type FetchPage, type Page } from './paging';
import { OperationBudget } from './rate-limiter';
import { redactSecrets } from './redact';
import { readBody, responseHeader } from './response';
import { defaultRetryOptions, parseRetryAfter, withRetry, type RetryOptions } from './retry';
import {
  attestationMechanismSchema,
  deviceRegistrationStateSchema,
  enrollmentGroupSchema,
  individualEnrollmentSchema,
  type AttestationMechanism,
  type DeviceRegistrationState,
  type EnrollmentGroup,
  type IndividualEnrollment,
  type QuerySpecification,
} from './schemas';

export type { Page } from './paging';

export const DPS_API_VERSION = '2021-10-01';
const SELECT_ALL: QuerySpecification = { query: '*' };

export type DpsLogLevel = 'debug' | 'warn';
/** Receives the client's log lines, already redacted. */
export type DpsLogger = (level: DpsLogLevel, message: string) => void;

export interface DpsClientOptions {
  /** `HostName=...;SharedAccessKeyName=...;SharedAccessKey=...`: SAS authentication. Takes precedence. */
  connectionString?: string;
  /** DPS host name (`mydps.azure-devices-provisioning.net`) for Entra ID, used when there is no connection string. */
  hostName?: string;
  /** Entra credential; DefaultAzureCredential (loaded on first use) when omitted. */
  credential?: TokenCredential;
  /** Extra CA certificate to trust, PEM (the local emulator's self-signed certificate). */
  caCertificate?: string | Buffer;
  /** Budget of DPS operations (HTTP requests, retries included) per minute; default 500 of the 1,000 DPS allows. */
  operationsPerMinute?: number;
  /** Default `x-ms-max-item-count` of queries; default 100. */
  pageSize?: number;
  retry?: Partial<RetryOptions>;
  /** Pool size, timeouts, or a dispatcher of your own (e.g. undici MockAgent). */
  http?: Omit<DpsHttpOptions, 'origin' | 'caCertificate'>;
  logger?: DpsLogger;
  /** Time source; tests pass a fake one. */
  clock?: Clock;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface WriteOptions extends CallOptions {
  /** Sent as `If-Match`; for createOrUpdate it defaults to the object's own `etag`. */
  ifMatch?: string;
}

export interface PageOptions extends CallOptions {
  /** `x-ms-max-item-count`; the client default when omitted. */
  pageSize?: number;
  /** Resume from a continuation token saved from an earlier page. */
  startToken?: string;
}

/** Counters since the client was created or `resetStats` was called. */
export interface DpsClientStats {
  /** DPS operations sent (each attempt counts). */
  operations: number;
  /** 429 responses seen. */
  throttled: number;
  /** Attempts repeated after a retryable failure. */
  retries: number;
  /** Time spent waiting for the operations budget, in ms. */
  budgetWaitMs: number;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function encodeId(operation: string, id: string): string {
  if (typeof id !== 'string' || id.trim() === '' || id === '.' || id === '..') {
    throw new DpsError(`DPS ${operation}: the id must be a non-empty string`, { operation });
  }
  return encodeURIComponent(id);
}

/** Client of the DPS service API for one DPS instance. Call `close()` when done. */
export class DpsClient {
  /** The DPS host name requests go to (from the connection string or `hostName`). */
  readonly hostName: string;
  private readonly authorizer: DpsAuthorizer;
  private readonly http: DpsHttp;
  private readonly budget: OperationBudget;
  private readonly clock: Clock;
  private readonly retry: RetryOptions;
  private readonly pageSize: number;
  private readonly logger: DpsLogger | undefined;
  private throttled = 0;
  private retries = 0;

  constructor(options: DpsClientOptions) {
    this.clock = options.clock ?? systemClock;
    const endpoint = authorizerFor(options, this.clock);
    this.hostName = endpoint.hostName;
    this.authorizer = endpoint.authorizer;
    this.http = new DpsHttp({
      ...options.http,
      origin: originForHost(endpoint.hostName),
      caCertificate: options.caCertificate,
    });
    this.budget = new OperationBudget({
      operationsPerMinute: options.operationsPerMinute ?? 500,
      clock: this.clock,
    });
    this.retry = { ...defaultRetryOptions, ...options.retry };
    this.pageSize = positiveInteger('pageSize', options.pageSize ?? 100);
    this.logger = options.logger;
  }

  /** `GET /enrollmentGroups/{id}`. Throws DpsNotFoundError when it does not exist. */
  async getEnrollmentGroup(id: string, options: CallOptions = {}): Promise<EnrollmentGroup> {
    const operation = 'getEnrollmentGroup';
    const path = `/enrollmentGroups/${encodeId(operation, id)}`;
    return this.call(operation, { method: 'GET', path }, options, (r) =>
      readBody(operation, enrollmentGroupSchema, r),
    );
  }

  /**
   * `PUT /enrollmentGroups/{id}`, with `If-Match` when an etag is given (DpsPreconditionFailedError on mismatch).
   * Like every call it is retried after a lost response, so a write that did land can then report 412.
   */
  async createOrUpdateEnrollmentGroup(
    group: EnrollmentGroup,
    options: WriteOptions = {},
  ): Promise<EnrollmentGroup> {
    const operation = 'createOrUpdateEnrollmentGroup';
    const path = `/enrollmentGroups/${encodeId(operation, group.enrollmentGroupId)}`;
    const ifMatch = options.ifMatch ?? group.etag ?? undefined;
    return this.call(operation, { method: 'PUT', path, body: group, ifMatch }, options, (r) =>
      readBody(operation, enrollmentGroupSchema, r),
    );
  }

  /** `DELETE /enrollmentGroups/{id}`, with `If-Match` when given. */
  async deleteEnrollmentGroup(id: string, options: WriteOptions = {}): Promise<void> {
    const operation = 'deleteEnrollmentGroup';
    const path = `/enrollmentGroups/${encodeId(operation, id)}`;
    return this.call(
      operation,
      { method: 'DELETE', path, ifMatch: options.ifMatch },
      options,
      () => undefined,
    );
  }

  /**
   * `POST /enrollmentGroups/{id}/attestationmechanism`: the attestation WITH its symmetric keys, which GET leaves
   * out. An update must send the keys back, or DPS would store the group without them (the az CLI reads them
   * the same way before its PUT).
   */
  async getEnrollmentGroupAttestationMechanism(
    id: string,
    options: CallOptions = {},
  ): Promise<AttestationMechanism> {
    const operation = 'getEnrollmentGroupAttestationMechanism';
    const path = `/enrollmentGroups/${encodeId(operation, id)}/attestationmechanism`;
    return this.call(operation, { method: 'POST', path }, options, (r) =>
      readBody(operation, attestationMechanismSchema, r),
    );
  }

  /** `POST /enrollments/{registrationId}/attestationmechanism`: as for groups, keys included. */
  async getIndividualEnrollmentAttestationMechanism(
    registrationId: string,
    options: CallOptions = {},
  ): Promise<AttestationMechanism> {
    const operation = 'getIndividualEnrollmentAttestationMechanism';
    const path = `/enrollments/${encodeId(operation, registrationId)}/attestationmechanism`;
    return this.call(operation, { method: 'POST', path }, options, (r) =>
      readBody(operation, attestationMechanismSchema, r),
    );
  }

  /** `GET /enrollments/{registrationId}`. */
  async getIndividualEnrollment(
    registrationId: string,
    options: CallOptions = {},
  ): Promise<IndividualEnrollment> {
    const operation = 'getIndividualEnrollment';
    const path = `/enrollments/${encodeId(operation, registrationId)}`;
    return this.call(operation, { method: 'GET', path }, options, (r) =>
      readBody(operation, individualEnrollmentSchema, r),
    );
  }

  /** `PUT /enrollments/{registrationId}`, with `If-Match` when an etag is given. */
  async createOrUpdateIndividualEnrollment(
    enrollment: IndividualEnrollment,
    options: WriteOptions = {},
  ): Promise<IndividualEnrollment> {
    const operation = 'createOrUpdateIndividualEnrollment';
    const path = `/enrollments/${encodeId(operation, enrollment.registrationId)}`;
    const ifMatch = options.ifMatch ?? enrollment.etag ?? undefined;
    return this.call(operation, { method: 'PUT', path, body: enrollment, ifMatch }, options, (r) =>
      readBody(operation, individualEnrollmentSchema, r),
    );
  }

  /** `DELETE /enrollments/{registrationId}`, with `If-Match` when given. */
  async deleteIndividualEnrollment(registrationId: string, options: WriteOptions = {}): Promise<void> {
    const operation = 'deleteIndividualEnrollment';
    const path = `/enrollments/${encodeId(operation, registrationId)}`;
    return this.call(
      operation,
      { method: 'DELETE', path, ifMatch: options.ifMatch },
      options,
      () => undefined,
    );
  }

  /** `GET /registrations/{registrationId}`. */
  async getRegistrationState(
    registrationId: string,
    options: CallOptions = {},
  ): Promise<DeviceRegistrationState> {
    const operation = 'getRegistrationState';
    const path = `/registrations/${encodeId(operation, registrationId)}`;
    return this.call(operation, { method: 'GET', path }, options, (r) =>
      readBody(operation, deviceRegistrationStateSchema, r),
    );
  }

  /** `DELETE /registrations/{registrationId}`, with `If-Match` when given. */
  async deleteRegistrationState(registrationId: string, options: WriteOptions = {}): Promise<void> {
    const operation = 'deleteRegistrationState';
    const path = `/registrations/${encodeId(operation, registrationId)}`;
    return this.call(
      operation,
      { method: 'DELETE', path, ifMatch: options.ifMatch },
      options,
      () => undefined,
    );
  }

  /**
   * Pages of `POST /enrollmentGroups/query`. Each page's `continuationToken` resumes right after that page
   * (pass it as `startToken`); it is undefined on the last page.
   */
  async *enrollmentGroupPages(
    options: PageOptions = {},
  ): AsyncGenerator<Page<EnrollmentGroup>, void, undefined> {
    const fetch = this.queryPage(
      'queryEnrollmentGroups',
      '/enrollmentGroups/query',
      enrollmentGroupSchema,
      options,
    );
    yield* iteratePages(fetch, options.startToken);
  }

  /** Every enrollment group, page after page. */
  async *enrollmentGroups(options: PageOptions = {}): AsyncGenerator<EnrollmentGroup, void, undefined> {
    yield* iterateItems(this.enrollmentGroupPages(options));
  }

  /** Pages of `POST /enrollments/query` (see enrollmentGroupPages). */
  async *individualEnrollmentPages(
    options: PageOptions = {},
  ): AsyncGenerator<Page<IndividualEnrollment>, void, undefined> {
    const fetch = this.queryPage(
      'queryIndividualEnrollments',
      '/enrollments/query',
      individualEnrollmentSchema,
      options,
    );
    yield* iteratePages(fetch, options.startToken);
  }

  /** Every individual enrollment, page after page. */
  async *individualEnrollments(
    options: PageOptions = {},
  ): AsyncGenerator<IndividualEnrollment, void, undefined> {
    yield* iterateItems(this.individualEnrollmentPages(options));
  }

  /** Pages of `POST /registrations/{enrollmentGroupId}/query` (see enrollmentGroupPages). */
  async *registrationStatePages(
    enrollmentGroupId: string,
    options: PageOptions = {},
  ): AsyncGenerator<Page<DeviceRegistrationState>, void, undefined> {
    const operation = 'queryRegistrationStates';
    const path = `/registrations/${encodeId(operation, enrollmentGroupId)}/query`;
    const fetch = this.queryPage(operation, path, deviceRegistrationStateSchema, options);
    yield* iteratePages(fetch, options.startToken);
  }

  /** Every registration state of an enrollment group, page after page. */
  async *registrationStates(
    enrollmentGroupId: string,
    options: PageOptions = {},
  ): AsyncGenerator<DeviceRegistrationState, void, undefined> {
    yield* iterateItems(this.registrationStatePages(enrollmentGroupId, options));
  }

  /** How long the next call would wait now for the operations-per-minute budget, in ms. */
  admissionDelayMs(): number {
    return this.budget.admissionDelayMs();
  }

  /** Operations sent, 429s seen, retries and budget waits since creation or the last reset. */
  stats(): DpsClientStats {
    const budget = this.budget.stats();
    return {
      operations: budget.operations,
      throttled: this.throttled,
      retries: this.retries,
      budgetWaitMs: budget.waitedMs,
    };
  }

  /** Starts the counters of `stats()` again from zero (e.g. at the start of an audit scan). */
  resetStats(): void {
    this.budget.resetStats();
    this.throttled = 0;
    this.retries = 0;
  }

  /** Closes the connection pool. */
  close(): Promise<void> {
    return this.http.close();
  }

  private queryPage<S extends z.ZodType>(
    operation: string,
    path: string,
    itemSchema: S,
    options: PageOptions,
  ): FetchPage<z.infer<S>> {
    const pageSize = positiveInteger('pageSize', options.pageSize ?? this.pageSize);
    const pageSchema = z.array(itemSchema);
    return (continuationToken) =>
      this.call(
        operation,
        { method: 'POST', path, body: SELECT_ALL, pageSize, continuationToken },
        options,
        (response) => ({
          items: readBody(operation, pageSchema, response),
          continuationToken: responseHeader(response, 'x-ms-continuation'),
        }),
      );
  }

  private async call<T>(
    operation: string,
    request: {
      method: DpsHttpRequest['method'];
      path: string;
      body?: unknown;
      ifMatch?: string;
      pageSize?: number;
      continuationToken?: string;
    },
    { signal }: CallOptions,
    read: (response: DpsHttpResponse) => T,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'dps-allocator' };
    if (request.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
    if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch;
    if (request.pageSize !== undefined) headers['x-ms-max-item-count'] = String(request.pageSize);
    if (request.continuationToken !== undefined) headers['x-ms-continuation'] = request.continuationToken;
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const path = `${request.path}?api-version=${DPS_API_VERSION}`;

    return withRetry(
      async (attempt) => {
        await this.budget.acquire(signal);
        const authorization = await this.authorize(operation, signal);
        const response = await this.http.send(operation, {
          method: request.method,
          path,
          headers: { ...headers, authorization },
          body,
          signal,
        });
        this.log(
          'debug',
          `DPS ${operation} ${request.method} ${request.path} -> ${response.status} (attempt ${attempt})`,
        );
        if (response.status === 429) this.throttled++;
        if (response.status < 200 || response.status >= 300) {
          const retryAfterMs = parseRetryAfter(responseHeader(response, 'retry-after'), this.clock.now());
          throw errorFromResponse(operation, response, retryAfterMs);
        }
        return read(response);
      },
      this.retry,
      {
        clock: this.clock,
        signal,
        onRetry: (error, attempt, delayMs) => {
          this.retries++;
          this.log(
            'warn',
            `DPS ${operation} attempt ${attempt} failed, retrying in ${delayMs} ms: ${error.message}`,
          );
        },
      },
    );
  }

  private async authorize(operation: string, signal: AbortSignal | undefined): Promise<string> {
    try {
      return await this.authorizer.authorization(signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new DpsUnauthorizedError(`DPS ${operation}: no access token (${reason})`, {
        operation,
        cause: error,
      });
    }
  }

  private log(level: DpsLogLevel, message: string): void {
    this.logger?.(level, redactSecrets(message));
  }
}
