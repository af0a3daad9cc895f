// The webhook's HTTP answer to a raw request body: 200 with an AllocationResponse, or a 400 that says why.
// DPS records any 400 as 400207 "Custom allocation failed", so the reason is also logged for the operator.
import type { Allocator, Decision } from './engine';
import type { HubLoadView } from './hub-load';
import { allocationRequestSchema } from './request';

export interface WebhookAnswer {
  status: 200 | 400;
  jsonBody: unknown;
  headers: Record<string, string>;
  /** One structured log record, free of secrets (no keys, no payload values, no webhook URLs). */
  log: DecisionLogRecord;
  /** The hub that gains a device: assigned, and not the hub a reprovisioned device is already on (hub load). */
  addedTo?: string;
}

export interface DecisionLogRecord {
  event: 'allocation';
  outcome: 'assigned' | 'rejected' | 'invalid-request';
  status: number;
  registrationId?: string;
  enrollment?: Decision['enrollment'];
  assignment?: Decision['assignment'];
  rule?: string;
  strategy?: string;
  candidates?: readonly string[];
  hub?: string;
  /** The hub the device was on when it asked (deviceRuntimeContext.currentIotHubHostName). */
  previousHub?: string;
  reason: string;
  latencyMs: number;
}

export interface WebhookOptions {
  maxBodyBytes: number;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/**
 * `now` (ms since the epoch) is the evaluation time of certificate expiry conditions and of the age of
 * `hubLoad`; default Date.now(). `hubLoad`: the hub device counts (DecideOptions.hubLoad); default none.
 */
export function answerAllocationRequest(
  allocator: Allocator,
  body: string,
  options: WebhookOptions,
  now?: number,
  hubLoad?: HubLoadView,
): WebhookAnswer {
  const started = performance.now();
  const invalid = (error: string, details?: unknown): WebhookAnswer => {
    const reason = details === undefined ? error : `${error}: ${summarize(details)}`;
    return {
      status: 400,
      jsonBody: details === undefined ? { error } : { error, details },
      headers: JSON_HEADERS,
      log: {
        event: 'allocation',
        outcome: 'invalid-request',
        status: 400,
        reason,
        latencyMs: elapsed(started),
      },
    };
  };

  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > options.maxBodyBytes) {
    return invalid(
      `request body is ${bytes} bytes; the limit is ${options.maxBodyBytes} (ALLOCATE_MAX_BODY_BYTES)`,
    );
  }
  if (body.trim() === '') return invalid('request body is empty; expected the DPS allocation request (JSON)');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return invalid(`request body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = allocationRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: toPath(issue.path), message: issue.message }));
    return invalid('request body is not a DPS allocation request', issues);
  }

  let decision: Decision;
  try {
    decision = allocator.decide(parsed.data, { now, hubLoad });
  } catch (error) {
    // A policy engine bug must still fail this device fast (4xx) rather than make DPS retry a 5xx.
    return invalid(`allocation failed: ${(error as Error).message}`);
  }
  const log: DecisionLogRecord = {
    event: 'allocation',
    outcome: decision.outcome,
    status: decision.outcome === 'assigned' ? 200 : 400,
    registrationId: decision.registrationId,
    enrollment: decision.enrollment,
    assignment: decision.assignment,
    rule: decision.rule,
    strategy: decision.strategy,
    candidates: decision.candidates,
    hub: decision.hub,
    previousHub: parsed.data.deviceRuntimeContext.currentIotHubHostName ?? undefined,
    reason: decision.reason,
    latencyMs: elapsed(started),
  };
  if (decision.outcome === 'assigned' && decision.response) {
    const current = parsed.data.deviceRuntimeContext.currentIotHubHostName?.toLowerCase();
    const addedTo = decision.hub?.toLowerCase() === current ? undefined : decision.hub;
    return { status: 200, jsonBody: decision.response, headers: JSON_HEADERS, log, addedTo };
  }
  return {
    status: 400,
    jsonBody: {
      error: 'allocation rejected',
      reason: decision.reason,
      registrationId: decision.registrationId,
      rule: decision.rule ?? null,
    },
    headers: JSON_HEADERS,
    log,
  };
}

function toPath(segments: readonly PropertyKey[]): string {
  return segments.length === 0 ? '(body)' : segments.map(String).join('.');
}

function summarize(details: unknown): string {
  if (!Array.isArray(details)) return String(details);
  return details.map((d: { path: string; message: string }) => `${d.path}: ${d.message}`).join('; ');
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
