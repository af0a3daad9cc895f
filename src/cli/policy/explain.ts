// `policy explain`: what the webhook would answer for one DPS request body, and why.
import { compilePolicy, FALLBACK_RULE_NAME, type Decision } from '../../allocation/engine';
import { jsonPath } from '../../allocation/policy';
import type { Policy } from '../../allocation/policy-schema';
import { allocationRequestSchema } from '../../allocation/request';
import { answerAllocationRequest, type WebhookOptions } from '../../allocation/webhook';

export interface Explanation {
  /** Exactly what the webhook answers: HTTP status and JSON body. */
  status: number;
  body: unknown;
  outcome: Decision['outcome'];
  registrationId: string;
  enrollment: Decision['enrollment'];
  assignment: Decision['assignment'];
  currentHub: string | null;
  linkedHubs: string[];
  /** The deciding rule and its JSON path; null when no rule decided (the fallback rejected). */
  rule: { name: string; path: string } | null;
  /** Earlier rules that did not decide, and why. */
  skippedRules: { rule: string; path: string; why: string }[];
  candidates: string[];
  strategy: string | null;
  hub: string | null;
  reason: string;
}

/** The webhook's 400 for a body that is not a valid DPS request: explaining stops there. */
export interface InvalidRequest {
  status: 400;
  body: unknown;
  /** The reason the webhook logs, e.g. "request body is not a DPS allocation request: linkedHubs: …". */
  error: string;
}

export function explainRequest(
  policy: Policy,
  requestBody: string,
  options: WebhookOptions,
): Explanation | InvalidRequest {
  const allocator = compilePolicy(policy);
  const answer = answerAllocationRequest(allocator, requestBody, options);
  if (answer.log.outcome === 'invalid-request') {
    return { status: 400, body: answer.jsonBody, error: answer.log.reason };
  }
  // The body passed the webhook's own validation, so this parse cannot fail.
  const request = allocationRequestSchema.parse(JSON.parse(requestBody));
  const decision = allocator.decide(request, { explain: true });
  const pathOf = (rule: string) => {
    if (rule === FALLBACK_RULE_NAME) return '$.fallback';
    const index = policy.rules.findIndex((r) => r.name === rule);
    return index >= 0 ? jsonPath(['rules', index]) : '$';
  };
  return {
    status: answer.status,
    body: answer.jsonBody,
    outcome: decision.outcome,
    registrationId: decision.registrationId,
    enrollment: decision.enrollment,
    assignment: decision.assignment,
    currentHub: request.deviceRuntimeContext.currentIotHubHostName ?? null,
    linkedHubs: request.linkedHubs,
    rule: decision.rule === undefined ? null : { name: decision.rule, path: pathOf(decision.rule) },
    skippedRules: (decision.skippedRules ?? []).map((miss) => ({ ...miss, path: pathOf(miss.rule) })),
    candidates: [...decision.candidates],
    strategy: decision.strategy ?? null,
    hub: decision.hub ?? null,
    reason: decision.reason,
  };
}

export function renderExplanation(explanation: Explanation): string {
  const e = explanation;
  const field = (label: string, value: string) => `${label.padEnd(13)}${value}`;
  const lines = [
    `Webhook answer: HTTP ${e.status}`,
    JSON.stringify(e.body, null, 2),
    '',
    field('Device', e.registrationId),
    field('Enrollment', `${e.enrollment.kind} '${e.enrollment.id}'`),
    field(
      'Assignment',
      e.assignment === 'initial'
        ? 'initial (no current hub)'
        : `reprovision (current hub ${e.currentHub ?? 'unknown'})`,
    ),
    field('Linked hubs', e.linkedHubs.join(', ') || '(none)'),
    '',
    field(
      'Rule',
      e.rule ? `${e.rule.name} (${e.rule.path})` : 'none: no rule matched and the fallback rejects',
    ),
    'Earlier rules that did not decide:',
  ];
  if (e.skippedRules.length === 0) lines.push('  (none)');
  for (const miss of e.skippedRules) lines.push(`  ${miss.rule} (${miss.path}): ${miss.why}`);
  lines.push(
    field('Candidates', e.candidates.join(', ') || '(none)'),
    field('Strategy', e.strategy ?? '–'),
    field('Outcome', e.outcome === 'assigned' ? `assigned to ${e.hub}` : 'rejected'),
    field('Reason', e.reason),
  );
  return lines.join('\n');
}
