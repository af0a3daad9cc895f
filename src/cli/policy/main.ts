// `npm run policy -- <command>`: check, explain and simulate allocation policies with the function's own engine.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parsePolicyText, PolicyError } from '../../allocation/policy';
import type { Policy } from '../../allocation/policy-schema';
import type { WebhookOptions } from '../../allocation/webhook';
import { redactSecrets } from '../../dps/redact';
import { readSettings } from '../../settings';
import {
  parseCommandArgs,
  stringOption,
  validatedOption,
  type OptionsConfig,
  type OptionValues as Values,
} from '../shared/args';
import { EXIT } from '../shared/exit-codes';
import type { CliIo } from '../shared/io';
import { runMain } from '../shared/run-main';
import { UsageError } from '../shared/usage-error';
import { checkPolicyText, renderCheck } from './check';
import { DEFAULT_ID_PATTERN, idsFromList, idsFromPattern, type DeviceIds } from './device-ids';
import { explainRequest, renderExplanation } from './explain';
import { checkHubLoadLinked, parseHubLoad, type HubCounts } from './hub-load-option';
import { simulate, type Scenario } from './simulate';
import { renderSimulation } from './simulate-report';
import { certificateFleet, DEFAULT_ISSUER, type CertificateFleet } from './simulated-certificates';

const DEFAULT_DEVICES = 10_000;
const MAX_DEVICES = 10_000_000;

export const USAGE = `Usage: npm run policy -- <command> <policy.json> [options]

  check <policy.json> [--json]
      Validates the policy as the function does at start-up: each problem with its JSON path and a hint,
      then warnings (unreachable rules, unused hub aliases, static failover, certificate rules no device
      can meet). Exit code 1 when invalid.

  explain <policy.json> --request <dps-request.json> [--now <date>] [--hub-load <host=n,...>] [--json]
      The webhook's answer (HTTP status and JSON body) for one DPS request body, the rule that decided,
      why each earlier rule did not, the candidates and the strategy's choice. --now judges certificate
      expiry at another instant (ISO 8601, e.g. 2027-01-01 or 2027-01-01T12:00:00Z; default now).
      --hub-load gives the hubs' device counts (maxDevices, leastLoaded), as for simulate.

  simulate <policy.json> --linked-hubs <host,host,...> [options]
      Allocates many synthetic devices (initial assignment, symmetric-key enrollment group unless --x509)
      with the function's engine and shows how they spread over the hubs.
        --devices <n>              number of devices (default ${DEFAULT_DEVICES.toLocaleString('en-US')})
        --id-pattern <pattern>     registration ids; {n} is the device index from 0, {n:6} zero-pads it
                                   (default ${DEFAULT_ID_PATTERN})
        --ids <file>               registration ids from a file, one per line (instead of --devices)
        --group <id>               enrollment group id (default simulated)
        --payload <json>           device payload sent by every device
        --now <date>               when certificate expiry is judged, and notAfter counts from (default now)
        --hub-load <host=n,...>    devices on each linked hub before the fleet lands (a hub not listed: 0);
                                   every assignment adds one, so maxDevices and leastLoaded see the fleet
                                   land. Without it: no counts, as allocate before its first read
      X.509 devices (an X.509 enrollment group; any --cert- option implies --x509):
        --x509                     devices attest with certificates (default subject CN={id})
        --cert-subject <template>  subject name; {id} registration id, {n} device index, {org} organisation
                                   (default CN={id}, O={org} with --cert-orgs)
        --cert-orgs <O,O:3,...>    organisations, handed to devices in turn (:3 = three turns in each round)
        --cert-issuer <name>       issuer and group signing certificate (default ${DEFAULT_ISSUER})
        --cert-expiry <d>[..<d>]   notAfter after --now: one duration, or a range spread evenly over the
                                   devices (m, h, d, w: 30d, 1d..400d; default 365d)
      Compare with a second scenario for the same devices (these combine):
        --compare <other.json>     another policy
        --add-hub <host>           link one more hub (repeatable)
        --remove-hub <host>        unlink a hub (repeatable)
      --json prints the result as JSON.

Exit codes: 0 done, 1 invalid policy, 2 bad arguments or input files.`;

export function main(argv: readonly string[], io: CliIo): number {
  const [command, ...rest] = argv;
  const cwd = io.cwd ?? process.cwd();
  try {
    if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help')) {
      (command === undefined ? io.stderr : io.stdout).write(`${USAGE}\n`);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    switch (command) {
      case 'check':
        return runCheck(rest, io, cwd);
      case 'explain':
        return runExplain(rest, io, cwd);
      case 'simulate':
        return runSimulate(rest, io, cwd);
      default:
        throw new UsageError(`unknown command '${command}'; use check, explain or simulate`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`policy ${command}: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof PolicyError) {
      io.stderr.write(`${error.message}\n(npm run policy -- check <file> shows hints)\n`);
      return EXIT.failed;
    }
    throw error;
  }
}

function runCheck(args: readonly string[], io: CliIo, cwd: string): number {
  const { file, values } = parse(args, { json: { type: 'boolean' } });
  const result = checkPolicyText(readInput(file, 'policy file', cwd), file);
  io.stdout.write(`${values.json ? JSON.stringify(result, null, 2) : renderCheck(result)}\n`);
  return result.ok ? EXIT.ok : EXIT.failed;
}

function runExplain(args: readonly string[], io: CliIo, cwd: string): number {
  const { file, values } = parse(args, {
    request: { type: 'string' },
    now: { type: 'string' },
    'hub-load': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (typeof values.request !== 'string') throw new UsageError('--request <dps-request.json> is required');
  const now = validatedOption(instantSchema, values, 'now') ?? Date.now();
  const hubCounts = hubLoadOption(values);
  const policy = loadPolicy(file, cwd);
  const body = readInput(values.request, 'request file', cwd);
  const result = explainRequest(policy, body, webhookOptions(), now, hubCounts);
  if ('error' in result) {
    throw new UsageError(`${values.request}: the webhook would answer 400: ${redactSecrets(result.error)}`);
  }
  if (hubCounts) checkHubLoadLinked(hubCounts, result.linkedHubs, "the request's linkedHubs");
  io.stdout.write(`${values.json ? JSON.stringify(result, null, 2) : renderExplanation(result)}\n`);
  return EXIT.ok;
}

function runSimulate(args: readonly string[], io: CliIo, cwd: string): number {
  const { file, values } = parse(args, {
    'linked-hubs': { type: 'string' },
    devices: { type: 'string' },
    'id-pattern': { type: 'string' },
    ids: { type: 'string' },
    group: { type: 'string' },
    payload: { type: 'string' },
    now: { type: 'string' },
    x509: { type: 'boolean' },
    'cert-subject': { type: 'string' },
    'cert-orgs': { type: 'string' },
    'cert-issuer': { type: 'string' },
    'cert-expiry': { type: 'string' },
    compare: { type: 'string' },
    'add-hub': { type: 'string', multiple: true },
    'remove-hub': { type: 'string', multiple: true },
    'hub-load': { type: 'string' },
    json: { type: 'boolean' },
  });
  const linkedHubs = hubList(values['linked-hubs']);
  const policy = loadPolicy(file, cwd);
  const ids = deviceIds(values, cwd);
  const now = validatedOption(instantSchema, values, 'now') ?? Date.now();
  const certificates = certificatesOption(values, now, ids.count);
  const before: Scenario = { policySource: file, policy, linkedHubs };
  const after = afterScenario(before, values, cwd);
  const hubLoad = hubLoadOption(values);
  if (hubLoad) {
    const linkedBy = after ? '--linked-hubs or --add-hub' : '--linked-hubs';
    checkHubLoadLinked(hubLoad, [...linkedHubs, ...(after?.linkedHubs ?? [])], linkedBy);
  }
  const result = simulate({
    ids,
    groupId: stringOption(values.group) ?? 'simulated',
    payload: payloadOption(values.payload),
    certificates,
    now,
    before,
    after,
    webhook: webhookOptions(),
    hubLoad,
  });
  io.stdout.write(`${values.json ? JSON.stringify(result, null, 2) : renderSimulation(result)}\n`);
  return EXIT.ok;
}

/** The arguments of a command that reads one policy file; a missing file says where the usage is. */
function parse(args: readonly string[], options: OptionsConfig) {
  try {
    const { values, positionals } = parseCommandArgs(args, options, ['policy file']);
    return { file: positionals[0]!, values };
  } catch (error) {
    if (error instanceof UsageError && /^which policy file/.test(error.message)) {
      throw new UsageError(`${error.message} (--help for usage)`);
    }
    throw error;
  }
}

function hubList(value: Values[string]): string[] {
  const text = stringOption(value);
  if (text === undefined) throw new UsageError('--linked-hubs <host,host,...> is required');
  const hubs = text.split(',').map((hub) => hub.trim());
  if (hubs.some((hub) => hub === '')) throw new UsageError(`--linked-hubs '${text}' has an empty entry`);
  const seen = new Set<string>();
  for (const hub of hubs) {
    if (seen.has(hub.toLowerCase())) throw new UsageError(`--linked-hubs lists '${hub}' twice`);
    seen.add(hub.toLowerCase());
  }
  return hubs;
}

function deviceIds(values: Values, cwd: string): DeviceIds {
  const idsFile = stringOption(values.ids);
  if (idsFile !== undefined) {
    if (values.devices !== undefined || values['id-pattern'] !== undefined) {
      throw new UsageError('--ids cannot be combined with --devices or --id-pattern');
    }
    return idsFromList(readInput(idsFile, 'ids file', cwd), idsFile);
  }
  const devicesText = stringOption(values.devices);
  let count = DEFAULT_DEVICES;
  if (devicesText !== undefined) {
    count = /^\d+$/.test(devicesText) ? Number(devicesText) : NaN;
    if (!(count >= 1 && count <= MAX_DEVICES)) {
      throw new UsageError(
        `--devices must be a whole number from 1 to ${MAX_DEVICES.toLocaleString('en-US')}`,
      );
    }
  }
  return idsFromPattern(stringOption(values['id-pattern']) ?? DEFAULT_ID_PATTERN, count);
}

/** The scenario to compare with: another policy and/or changed linked hubs; undefined when none is asked for. */
function afterScenario(before: Scenario, values: Values, cwd: string): Scenario | undefined {
  const compare = stringOption(values.compare);
  const added = (values['add-hub'] as string[] | undefined) ?? [];
  const removed = (values['remove-hub'] as string[] | undefined) ?? [];
  if (compare === undefined && added.length === 0 && removed.length === 0) return undefined;
  const linkedHubs = [...before.linkedHubs];
  for (const hub of removed) {
    const index = linkedHubs.findIndex((linked) => linked.toLowerCase() === hub.trim().toLowerCase());
    if (index < 0) throw new UsageError(`--remove-hub '${hub}' is not in --linked-hubs`);
    linkedHubs.splice(index, 1);
  }
  for (const hub of added.map((h) => h.trim())) {
    if (hub === '') throw new UsageError('--add-hub needs a host name');
    if (linkedHubs.some((linked) => linked.toLowerCase() === hub.toLowerCase())) {
      throw new UsageError(`--add-hub '${hub}' is already linked`);
    }
    linkedHubs.push(hub);
  }
  return compare === undefined
    ? { policySource: before.policySource, policy: before.policy, linkedHubs }
    : { policySource: compare, policy: loadPolicy(compare, cwd), linkedHubs };
}

const instantSchema = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'must be an ISO 8601 date (2027-01-01) or date-time with a zone (2027-01-01T12:00:00Z)',
  })
  .transform((text) => Date.parse(text));

/** The X.509 fleet the --x509 and --cert-… options describe; undefined for symmetric-key devices. */
function certificatesOption(values: Values, now: number, count: number): CertificateFleet | undefined {
  const option = (name: string) => stringOption(values[name]);
  const given = {
    subject: option('cert-subject'),
    organisations: option('cert-orgs'),
    issuer: option('cert-issuer'),
    expiry: option('cert-expiry'),
  };
  const any = Object.values(given).some((value) => value !== undefined);
  if (!any && values.x509 !== true) return undefined;
  return certificateFleet(given, now, count);
}

function hubLoadOption(values: Values): HubCounts | undefined {
  const text = stringOption(values['hub-load']);
  return text === undefined ? undefined : parseHubLoad(text);
}

function payloadOption(value: Values[string]): Record<string, unknown> | undefined {
  const text = stringOption(value);
  if (text === undefined) return undefined;
  try {
    // Not checked here: the webhook's own validation of the simulated request reports a payload it refuses.
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--payload is not valid JSON: ${(error as Error).message}`);
  }
}

function loadPolicy(file: string, cwd: string): Policy {
  return parsePolicyText(readInput(file, 'policy file', cwd), file);
}

function readInput(file: string, what: string, cwd: string): string {
  try {
    return readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${file}: ${(error as Error).message}`);
  }
}

function webhookOptions(): WebhookOptions {
  // The deployed default body limit, so explain and simulate refuse what the function refuses.
  return { maxBodyBytes: readSettings({}).ALLOCATE_MAX_BODY_BYTES };
}

if (require.main === module) runMain(main, { cwd: 'typed-in' });
