// Runs a parsed configure command: resolves the function key, opens the DPS client, applies the plans and
// renders the result. Everything it writes goes through the secret scrubber.
import { readFile } from 'node:fs/promises';
import type { TokenCredential } from '@azure/identity';
import { loadDefaultAzureCredential } from '../../dps/auth';
import { DpsClient } from '../../dps/client';
import { UsageError } from '../shared/usage-error';
import { configureEnrollments, type ApplyOptions } from './apply';
import { dpsEnrollmentStore, type EnrollmentStore } from './enrollment-store';
import { lookUpFunctionKey } from './function-key';
import type { ConfigureCommand } from './options';
import { describeTarget } from './plan';
import { renderJson, renderText } from './render';
import type { SecretScrubber } from './scrub';
import { buildWebhookUrl, maskWebhookUrl } from './webhook-url';

/** Waits before retrying DPS after 401/403 with Entra ID: a role assigned by the same `azd provision` may lag. */
export const DEFAULT_DPS_AUTH_RETRY_DELAYS_MS: readonly number[] = [5_000, 10_000, 20_000, 30_000];

/** What tests (or other callers) can replace. */
export interface ConfigureDeps {
  /** Entra credential for DPS (`--dps-host`) and ARM (`--function-app`); default DefaultAzureCredential. */
  credential?: TokenCredential;
  armBaseUrl?: string;
  armRetryDelaysMs?: readonly number[];
  /** Default DEFAULT_DPS_AUTH_RETRY_DELAYS_MS with Entra ID, none with SAS. */
  dpsAuthRetryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  /** Called before each PUT (tests change the enrollment there to provoke a 412). */
  beforeWrite?: ApplyOptions['beforeWrite'];
  /** Replaces the DPS client (and attestation reader) altogether. */
  openStore?: (command: ConfigureCommand) => { store: EnrollmentStore; close(): Promise<void> };
}

export interface ConfigureOutput {
  out(line: string): void;
  err(line: string): void;
}

async function readCaCertificate(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read the CA certificate file ${path}`);
  }
}

function dpsStore(
  command: ConfigureCommand,
  caCertificate: string | undefined,
  credential: () => TokenCredential,
  warn: (message: string) => void,
): { store: EnrollmentStore; close(): Promise<void> } {
  const connection =
    command.dps.kind === 'sas'
      ? { connectionString: command.dps.connectionString }
      : { hostName: command.dps.hostName, credential: credential() };
  const client = new DpsClient({
    ...connection,
    caCertificate,
    logger: (level, message) => {
      if (level === 'warn') warn(message);
    },
  });
  return { store: dpsEnrollmentStore(client), close: () => client.close() };
}

/**
 * Configures the enrollments of `command`; returns the exit code (0 all done, 1 some failed). Throws
 * UsageError or ConfigureError for problems that stop everything (unreadable CA file, key lookup).
 */
export async function runConfigure(
  command: ConfigureCommand,
  output: ConfigureOutput,
  scrubber: SecretScrubber,
  deps: ConfigureDeps = {},
): Promise<number> {
  const note = (message: string) => output.err(scrubber.scrub(`note: ${message}`));
  let credential = deps.credential;
  const sharedCredential = () => (credential ??= loadDefaultAzureCredential());

  let webhookUrl: string;
  const source = command.keySource;
  if (source.kind === 'lookup') {
    const found = await lookUpFunctionKey(source.function, {
      credential: sharedCredential(),
      baseUrl: deps.armBaseUrl,
      retryDelaysMs: deps.armRetryDelaysMs,
      sleep: deps.sleep,
      onNote: note,
    });
    scrubber.add(found.key);
    const scope = found.source === 'host' ? 'host' : 'function';
    note(`using the ${scope} key '${found.name}' of function app '${source.function.functionApp}'`);
    webhookUrl = buildWebhookUrl({ url: command.webhookUrl, functionKey: found.key });
  } else if (source.kind === 'given') {
    webhookUrl = buildWebhookUrl({ url: command.webhookUrl, functionKey: source.key });
  } else {
    webhookUrl = buildWebhookUrl({ url: command.webhookUrl, anonymous: source.kind === 'anonymous' });
  }

  const caCertificate =
    command.caCertificatePath === undefined ? undefined : await readCaCertificate(command.caCertificatePath);
  const opened = deps.openStore
    ? deps.openStore(command)
    : dpsStore(command, caCertificate, sharedCredential, (message) =>
        output.err(scrubber.scrub(`warning: ${message}`)),
      );
  let outcomes;
  try {
    outcomes = await configureEnrollments(
      opened.store,
      {
        targets: command.targets,
        allocation: { webhookUrl, apiVersion: command.apiVersion },
        create: command.create,
        dryRun: command.dryRun,
      },
      {
        authRetryDelaysMs:
          deps.dpsAuthRetryDelaysMs ?? (command.dps.kind === 'entra' ? DEFAULT_DPS_AUTH_RETRY_DELAYS_MS : []),
        sleep: deps.sleep,
        beforeWrite: deps.beforeWrite,
        onNote: note,
      },
    );
  } finally {
    await opened.close();
  }

  const context = {
    dryRun: command.dryRun,
    maskedWebhookUrl: maskWebhookUrl(webhookUrl),
    apiVersion: command.apiVersion,
  };
  if (command.json) {
    output.out(scrubber.scrub(renderJson(outcomes, context)));
  } else {
    const rendered = renderText(outcomes, context);
    for (const line of rendered.out) output.out(scrubber.scrub(line));
    for (const line of rendered.err) output.err(scrubber.scrub(line));
  }
  if (command.json) {
    for (const outcome of outcomes) {
      if (outcome.status !== 'failed') continue;
      output.err(
        scrubber.scrub(`${describeTarget(outcome.target)}: failed: ${outcome.error ?? 'unknown error'}`),
      );
    }
  }
  return outcomes.some((outcome) => outcome.status === 'failed') ? 1 : 0;
}
