// `policy explain`: what the webhook would answer for one DPS request body, and why.
import { requestCertificate, type DeviceCertificate } from '../../allocation/device-certificate';
import { compilePolicy, FALLBACK_RULE_NAME, type Decision } from '../../allocation/engine';
import { hubDirectory } from '../../allocation/hub-selection';
import { jsonPath } from '../../allocation/policy';
import type { Policy } from '../../allocation/policy-schema';
import { allocationRequestSchema, attestationTypeOf } from '../../allocation/request';
import { answerAllocationRequest, type WebhookOptions } from '../../allocation/webhook';
import { formatCount, formatPercent } from '../shared/format-table';
import { simulatedHubLoad, type HubCounts } from './hub-load-option';

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
  /** Per linked hub, the devices decided with (--hub-load), its cap and drain; null without --hub-load. */
  hubLoad: HubLoadEntry[] | null;
  attestation: string | null;
  /** The device certificate as the policy reads it; null when the device has none (or DPS sent none readable). */
  certificate: CertificateSummary | null;
  /** The instant certificate expiry was judged at (ISO 8601). */
  evaluatedAt: string;
  /** The deciding rule and its JSON path; null when no rule decided (the fallback rejected). */
  rule: { name: string; path: string } | null;
  /** Earlier rules that did not decide, and why. */
  skippedRules: { rule: string; path: string; why: string }[];
  candidates: string[];
  strategy: string | null;
  hub: string | null;
  reason: string;
}

export interface HubLoadEntry {
  hub: string;
  devices: number;
  maxDevices: number | null;
  /** devices / maxDevices; null without maxDevices. */
  fill: number | null;
  draining: boolean;
}

export interface CertificateSummary {
  subject: string | null;
  issuer: string | null;
  signingSubject: string | null;
  notBefore: string | null;
  notAfter: string | null;
  sha1Thumbprint: string | null;
  sha256Thumbprint: string | null;
}

/** The webhook's 400 for a body that is not a valid DPS request: explaining stops there. */
export interface InvalidRequest {
  status: 400;
  body: unknown;
  /** The reason the webhook logs, e.g. "request body is not a DPS allocation request: linkedHubs: …". */
  error: string;
}

/**
 * `now` (ms since the epoch) is when certificate expiry is judged; the webhook uses the time of the request.
 * `hubCounts` (--hub-load): devices per hub, read at `now` (a linked hub not listed holds 0); absent: none.
 */
export function explainRequest(
  policy: Policy,
  requestBody: string,
  options: WebhookOptions,
  now: number = Date.now(),
  hubCounts?: HubCounts,
): Explanation | InvalidRequest {
  const allocator = compilePolicy(policy);
  const linkedHubs = linkedHubsOf(requestBody);
  const hubLoad = hubCounts ? simulatedHubLoad(hubCounts, linkedHubs, now) : undefined;
  const answer = answerAllocationRequest(allocator, requestBody, options, now, hubLoad);
  if (answer.log.outcome === 'invalid-request') {
    return { status: 400, body: answer.jsonBody, error: answer.log.reason };
  }
  // The body passed the webhook's own validation, so this parse cannot fail.
  const request = allocationRequestSchema.parse(JSON.parse(requestBody));
  const decision = allocator.decide(request, { explain: true, now, hubLoad });
  const directory = hubDirectory(policy.hubs);
  const certificate = requestCertificate(request);
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
    hubLoad: hubLoad
      ? request.linkedHubs.map((hub) => {
          const { maxDevices, draining } = directory(hub);
          const devices = hubLoad.devices.get(hub.toLowerCase()) ?? 0;
          return {
            hub,
            devices,
            maxDevices: maxDevices ?? null,
            fill: maxDevices === undefined ? null : devices / maxDevices,
            draining,
          };
        })
      : null,
    attestation: attestationTypeOf(request) ?? null,
    certificate: certificate ? summaryOf(certificate) : null,
    evaluatedAt: new Date(now).toISOString(),
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
    ...hubLoadLines(e),
    ...certificateLines(e),
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

/** The linked hubs' counts as decided with (--hub-load), one line each. */
function hubLoadLines(e: Explanation): string[] {
  if (e.hubLoad === null) return [];
  const width = Math.max(...e.hubLoad.map((entry) => entry.hub.length));
  return e.hubLoad.map((entry, i) => {
    const cap =
      entry.maxDevices === null || entry.fill === null
        ? ''
        : ` of maxDevices ${formatCount(entry.maxDevices)} (${formatPercent(entry.fill)}${entry.fill >= 1 ? ', full' : ''})`;
    const state = entry.draining ? ', draining' : '';
    const line = `${entry.hub.padEnd(width)}  ${formatCount(entry.devices)} devices${cap}${state}`;
    return `${(i === 0 ? 'Hub load' : '').padEnd(13)}${line}`;
  });
}

/** linkedHubs of a body, when it has a list of strings there: the hubs --hub-load counts are given for. */
function linkedHubsOf(requestBody: string): string[] {
  try {
    const linked = (JSON.parse(requestBody) as { linkedHubs?: unknown }).linkedHubs;
    return Array.isArray(linked) ? linked.filter((hub): hub is string => typeof hub === 'string') : [];
  } catch {
    return [];
  }
}

function summaryOf(certificate: DeviceCertificate): CertificateSummary {
  return {
    subject: certificate.subject?.text ?? null,
    issuer: certificate.issuer?.text ?? null,
    signingSubject: certificate.signingSubject?.text ?? null,
    notBefore: certificate.notBefore?.toISOString() ?? null,
    notAfter: certificate.notAfter?.toISOString() ?? null,
    sha1Thumbprint: certificate.sha1Thumbprint ?? null,
    sha256Thumbprint: certificate.sha256Thumbprint ?? null,
  };
}

/** Shown for X.509 devices only: what the certificate conditions read, and when. */
function certificateLines(e: Explanation): string[] {
  if (e.attestation !== 'x509' && e.certificate === null) return [];
  const indent = ' '.repeat(13);
  const c = e.certificate;
  if (c === null) {
    return [
      `${'Certificate'.padEnd(13)}none readable in deviceRuntimeContext.x509 (certificate rules do not match)`,
    ];
  }
  const lines = [`${'Certificate'.padEnd(13)}subject ${c.subject ?? '(none)'}`];
  lines.push(`${indent}issuer ${c.issuer ?? '(none)'}`);
  if (c.signingSubject !== null) lines.push(`${indent}signed by ${c.signingSubject}`);
  lines.push(`${indent}valid ${c.notBefore ?? '?'} to ${c.notAfter ?? '?'} (judged at ${e.evaluatedAt})`);
  const thumbprint = c.sha256Thumbprint ?? c.sha1Thumbprint;
  if (thumbprint !== null) lines.push(`${indent}thumbprint ${thumbprint}`);
  return lines;
}
