// `npm run audit -- ...` in-process over X.509 enrollments (DPS emulator + Azurite): `scan` with the app settings
// (AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS included), then `list` shows the individual devices DPS refuses for their
// certificates, with why, and `findings` the certificate findings and what to fix.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/audit/main';
import {
  DEVICES,
  EXPECTED_URL,
  EXPIRED_AT,
  GROUPS,
  seedCertificateFleet,
  utc,
  type CertificateFleet,
} from '../../audit/support/certificate-fleet';
import { startAuditEnvironment, type AuditTestEnvironment } from '../../audit/support/environment';

let env: AuditTestEnvironment;
let folder: string;
let settings: NodeJS.ProcessEnv;
let fleet: CertificateFleet;

async function audit(
  argv: string[],
  extra: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true, isTTY: false, columns: 200 },
    env: { ...settings, ...extra },
    cwd: folder,
    progressIntervalMs: 0,
  });
  return { code, stdout };
}

/** The data rows of the first table: lines after the dashed rule, up to the first blank line. */
function tableRows(output: string): string[][] {
  const lines = output.split('\n');
  const rule = lines.findIndex((line) => /^-+( +-+)+$/.test(line));
  const end = lines.indexOf('', rule);
  return lines.slice(rule + 1, end < 0 ? undefined : end).map((line) => line.trim().split(/ {2,}/));
}

beforeAll(async () => {
  env = await startAuditEnvironment();
  fleet = await seedCertificateFleet(env.emulator);
  folder = mkdtempSync(path.join(os.tmpdir(), 'audit-certificates-'));
  const caFile = path.join(folder, 'dps-ca.pem');
  writeFileSync(caFile, env.emulator.caCertificatePem);
  settings = {
    AUDIT_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
    DPS_CONNECTION_STRING: env.emulator.serviceConnectionString,
    DPS_CA_CERTIFICATE_PATH: caFile,
    AUDIT_EXPECTED_WEBHOOK_URL: EXPECTED_URL,
    AUDIT_TABLE_PREFIX: 'CliCertificates',
  };
  expect((await audit(['scan'])).code).toBe(0);
});

afterAll(async () => {
  await env?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('list', () => {
  it('shows each individual device DPS refuses for its certificate as failed 401002, and why', async () => {
    const result = await audit(['list']);
    expect(result.code).toBe(0);
    const rows = tableRows(result.stdout);
    expect(rows.map((row) => row.slice(0, 4))).toEqual([
      [DEVICES.notYetValid, '(individual)', 'failed', '401002'],
      [DEVICES.expired, '(individual)', 'failed', '401002'],
    ]);
    expect(result.stdout).toMatch(
      /Error codes:\n {2}401002 {2}Unauthorized: DPS refused the device at attestation/,
    );
    expect(result.stdout).toContain(
      [
        'Refused at attestation (no registration state in DPS):',
        `  ${DEVICES.notYetValid}: DPS refuses this device: its certificate is not valid before ` +
          `${utc(fleet.validFrom)} (enrollment certificate CN=${DEVICES.notYetValid}).`,
        `  ${DEVICES.expired}: DPS refuses this device: its certificate expired at ${EXPIRED_AT} ` +
          `(enrollment certificate CN=${DEVICES.expired}).`,
      ].join('\n'),
    );
  });

  it('gives the same rows with their source and explanation as JSON, and filters by the error code', async () => {
    const json = JSON.parse((await audit(['list', '--error-code', '401002', '--open', '--json'])).stdout);
    expect(json).toEqual([
      expect.objectContaining({ registrationId: DEVICES.notYetValid, source: 'enrollment-certificate' }),
      expect.objectContaining({
        registrationId: DEVICES.expired,
        enrollmentKind: 'individual',
        status: 'failed',
        errorCode: 401002,
        source: 'enrollment-certificate',
        errorExplanation: expect.stringMatching(/^DPS refuses this device: its certificate expired at /),
        open: true,
      }),
    ]);
  });
});

describe('findings', () => {
  it('shows the certificate findings of groups and individual enrollments, and what to fix', async () => {
    const result = await audit(['findings']);
    expect(tableRows(result.stdout)).toEqual(
      expect.arrayContaining([
        ['group', GROUPS.expired, 'custom', 'enabled', EXPECTED_URL, 'certificate-expired'],
        ['group', GROUPS.expiring, 'custom', 'enabled', EXPECTED_URL, 'certificate-expiring'],
        ['group', GROUPS.valid, 'custom', 'enabled', EXPECTED_URL, 'none'],
        ['individual', DEVICES.notYetValid, 'custom', 'enabled', EXPECTED_URL, 'certificate-not-yet-valid'],
      ]),
    );
    expect(result.stdout).toContain(
      `  ${GROUPS.expired}: The primary signing certificate (CN=Expired Root, O=Contoso) expired at ` +
        `${EXPIRED_AT}: DPS refuses every device that chains to it.`,
    );
    expect(result.stdout).toContain(
      `  ${DEVICES.expiredAssigned}: The primary certificate (CN=${DEVICES.expiredAssigned}) expired at ` +
        `${EXPIRED_AT}: DPS refuses the device (401).`,
    );
  });

  it('warns of expiring certificates within AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS only', async () => {
    // The expiring root has 10 days left: not within 5.
    const narrow = {
      AUDIT_TABLE_PREFIX: 'CliCertificatesNarrow',
      AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS: '5',
    };
    expect((await audit(['scan'], narrow)).code).toBe(0);
    const findings = JSON.parse((await audit(['findings', '--json'], narrow)).stdout) as Array<{
      enrollmentId: string;
      findings: Array<{ code: string }>;
    }>;
    const expiring = findings.find((row) => row.enrollmentId === GROUPS.expiring);
    expect(expiring?.findings).toEqual([]);
    expect(findings.find((row) => row.enrollmentId === GROUPS.expired)?.findings).toEqual([
      expect.objectContaining({ code: 'certificate-expired' }),
    ]);
  });
});
