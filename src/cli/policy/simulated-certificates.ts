// Certificates for `policy simulate --x509`: the certificate details DPS would send for each synthetic device
// (deviceRuntimeContext.x509, docs/dps-contract.md §1.2), from a subject template, organisations handed out in
// turn, and expiry dates spread evenly over a range. Deterministic: the same options give the same fleet.
import { createHash } from 'node:crypto';
import { DURATION_SYNTAX, durationMs } from '../../allocation/duration';
import { UsageError } from '../shared/usage-error';

export interface CertificateFleetOptions {
  /** Subject template: {id} the registration id, {n} the device index, {org} its organisation. */
  subject?: string;
  /** Comma-separated organisations, each optionally with a weight: `Contoso-EU:3,Contoso-US`. */
  organisations?: string;
  /** Issuer of the device certificates, also the signing certificate of the enrollment group. */
  issuer?: string;
  /** notAfter after the evaluation time: one duration, or `<from>..<to>` spread evenly over the devices. */
  expiry?: string;
}

export interface CertificateFleet {
  /** For reports, e.g. "subject 'CN={id}, O={org}', O: Contoso-EU ×3, Contoso-US; notAfter in 1d..400d". */
  description: string;
  subjectTemplate: string;
  issuer: string;
  /** Organisations in the order given; empty when the subject template has no {org}. */
  organisations: readonly string[];
  /** The organisation of device `index`, or undefined without organisations. */
  organisationAt(index: number): string | undefined;
  /** Writes device `index`'s X509CertificateInfo fields into `info` (one object is reused for every device). */
  fill(info: Record<string, unknown>, index: number, registrationId: string): void;
}

export const DEFAULT_ISSUER = 'CN=Simulated Intermediate CA, O=Simulation';
const DEFAULT_EXPIRY = '365d';
const DAY_MS = 86_400_000;
const TEMPLATE_FIELD = /\{(id|n|org)\}/g;

export function certificateFleet(
  options: CertificateFleetOptions,
  now: number,
  count: number,
): CertificateFleet {
  const organisations = organisationCycle(options.organisations);
  const subjectTemplate =
    options.subject ?? (organisations.cycle.length > 0 ? 'CN={id}, O={org}' : 'CN={id}');
  const stray = /\{[^}]*\}/.exec(subjectTemplate.replace(TEMPLATE_FIELD, ''));
  if (stray) throw new UsageError(`--cert-subject: unknown placeholder ${stray[0]}; use {id}, {n} or {org}`);
  const usesOrg = subjectTemplate.includes('{org}');
  if (usesOrg && organisations.cycle.length === 0) {
    throw new UsageError('--cert-subject uses {org}: give the organisations with --cert-orgs');
  }
  if (!usesOrg && organisations.cycle.length > 0) {
    throw new UsageError(`--cert-orgs needs {org} in --cert-subject ('${subjectTemplate}')`);
  }
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const expiry = expiryRange(options.expiry ?? DEFAULT_EXPIRY);
  const notBefore = new Date(now - DAY_MS).toISOString();
  const organisationAt = (index: number) =>
    organisations.cycle.length === 0 ? undefined : organisations.cycle[index % organisations.cycle.length];
  const notAfterAt = (index: number) => {
    const fraction = count <= 1 ? 0 : index / (count - 1);
    return new Date(now + expiry.from + Math.round((expiry.to - expiry.from) * fraction)).toISOString();
  };
  return {
    description: [
      `subject '${subjectTemplate}'`,
      ...(organisations.shown ? [`O in turn: ${organisations.shown}`] : []),
      `issuer '${issuer}'`,
      `notAfter in ${expiry.shown}`,
    ].join(', '),
    subjectTemplate,
    issuer,
    organisations: organisations.names,
    organisationAt,
    fill(info, index, registrationId) {
      const subjectName = subjectTemplate.replace(TEMPLATE_FIELD, (_all, field: string) =>
        field === 'id' ? registrationId : field === 'n' ? String(index) : (organisationAt(index) ?? ''),
      );
      // Stand-in thumbprints and serial: distinct per device, as real ones are.
      const seed = `${subjectName}\u0000${registrationId}`;
      info.subjectName = subjectName;
      info.issuerName = issuer;
      info.sha1Thumbprint = createHash('sha1').update(seed).digest('hex').toUpperCase();
      info.sha256Thumbprint = createHash('sha256').update(seed).digest('hex').toUpperCase();
      info.notBeforeUtc = notBefore;
      info.notAfterUtc = notAfterAt(index);
      info.serialNumber = (info.sha1Thumbprint as string).slice(0, 32);
      info.version = 3;
    },
  };
}

/** `A:3,B` -> the cycle [A, A, A, B]; names compared as given. */
function organisationCycle(text: string | undefined) {
  if (text === undefined) return { cycle: [] as string[], names: [] as string[], shown: '' };
  const cycle: string[] = [];
  const names: string[] = [];
  for (const entry of text.split(',')) {
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.trim())!;
    const name = match[1]!.trim();
    const weight = match[2] === undefined ? 1 : Number(match[2]);
    if (name === '') throw new UsageError(`--cert-orgs '${text}' has an empty organisation`);
    if (!(weight >= 1 && weight <= 1000)) {
      throw new UsageError(`--cert-orgs: the weight of '${name}' must be a whole number from 1 to 1000`);
    }
    if (names.includes(name)) throw new UsageError(`--cert-orgs lists '${name}' twice`);
    names.push(name);
    for (let i = 0; i < weight; i++) cycle.push(name);
  }
  const shown = names
    .map((name) => {
      const weight = cycle.filter((o) => o === name).length;
      return weight === 1 ? name : `${name} ×${weight}`;
    })
    .join(', ');
  return { cycle, names, shown };
}

function expiryRange(text: string): { from: number; to: number; shown: string } {
  const [fromText, toText = fromText, extra] = text.split('..');
  const parse = (part: string | undefined) => (part === '0' ? 0 : durationMs(part?.trim() ?? ''));
  const from = parse(fromText);
  const to = parse(toText);
  if (extra !== undefined || from === undefined || to === undefined) {
    throw new UsageError(
      `--cert-expiry '${text}' is not a duration or <from>..<to> (each ${DURATION_SYNTAX}, e.g. 1d..400d)`,
    );
  }
  if (to < from) throw new UsageError(`--cert-expiry '${text}': the end comes before the start`);
  return { from, to, shown: text };
}
