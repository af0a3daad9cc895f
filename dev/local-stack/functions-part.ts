// The local Functions host serving the compiled functions, with a function key: yours (LOCAL_FUNCTION_KEY), else one
// generated once and kept in the data folder, so that webhook URLs holding `?code=` stay valid across restarts.
import path from 'node:path';
import {
  DEFAULT_PORT,
  FUNCTION_KEY_SETTING,
  formatFunctionsBanner,
  startFunctionsHost,
  type FunctionsHost,
  type HostLogSink,
} from '../functions-host';
import { readRoutePrefix } from '../functions-host/host-json';
import { maskWebhookUrl } from '../../src/cli/configure/webhook-url';
import { readSettings } from '../../src/settings';
import { auditTableNames } from '../../src/audit/rows/tables';
import { decisionsTableName } from '../../src/decisions/table';
import type { LocalStackPaths } from './paths';
import { displayPath } from './paths';
import { loadOrCreateKey } from './stored-key';
import type { SettingsPart } from './settings-part';
import type { LocalStackPart } from './types';

export interface FunctionsPart extends LocalStackPart {
  host: FunctionsHost;
  /** The allocate URL with `?code=<key>`: a secret, never printed. Undefined when no allocate function is served. */
  webhookUrl: string | undefined;
  functionKey: string;
}

export async function startFunctionsPart(options: {
  appRoot: string;
  functionsDir: string;
  port: number | undefined;
  enableTimers: boolean;
  paths: LocalStackPaths;
  settings: SettingsPart;
  log?: HostLogSink;
}): Promise<FunctionsPart> {
  const env = process.env;
  const ownKey = env[FUNCTION_KEY_SETTING]?.trim();
  if (!ownKey) {
    const generated = await loadOrCreateKey(options.paths.functionKeyFile);
    options.settings.applyDefault({ name: FUNCTION_KEY_SETTING, value: generated });
  }
  const functionKey = env[FUNCTION_KEY_SETTING]!.trim();
  const keyWhere = ownKey
    ? `your ${FUNCTION_KEY_SETTING}`
    : `cat ${displayPath(options.appRoot, options.paths.functionKeyFile)}`;

  // The settings part has applied local.settings.json already: the host is not given the app root, so that it does
  // not apply the file a second time (and report every value as skipped).
  const host = await startFunctionsHost({
    functionsDir: options.functionsDir,
    port: options.port ?? options.settings.localHttpPort ?? DEFAULT_PORT,
    functionKey,
    enableTimers: options.enableTimers,
    routePrefix: readRoutePrefix(path.join(options.appRoot, 'host.json')),
    log: options.log,
  });

  const hasFunction = (name: string) => host.functions.some((fn) => fn.name.toLowerCase() === name);
  let webhookUrl: string | undefined;
  if (hasFunction('allocate')) {
    const allocateUrl = host.functionUrl('allocate');
    webhookUrl = `${allocateUrl}?code=${encodeURIComponent(functionKey)}`;
    // Read by each audit run: enrollments whose webhook is not this URL get a `webhook-elsewhere` finding.
    options.settings.applyDefault({
      name: 'AUDIT_EXPECTED_WEBHOOK_URL',
      value: allocateUrl,
      showValue: true,
    });
  }

  const banner = [...formatFunctionsBanner(host)];
  if (webhookUrl) {
    banner.push(`Webhook URL for DPS enrollments: ${maskWebhookUrl(webhookUrl)}  (the key: ${keyWhere})`);
  }
  if (hasFunction('dashboard')) {
    banner.push(`Dashboard: ${host.functionUrl('dashboard')}?code=***  (the key: ${keyWhere})`);
  }
  if (hasFunction('audit')) {
    const settings = readSettings(env);
    const tables = Object.values(auditTableNames(settings.AUDIT_TABLE_PREFIX));
    banner.push(
      `Audit: scans on "${settings.AUDIT_SCHEDULE}" (AUDIT_SCHEDULE)` +
        (host.timersEnabled ? '' : ', timers disabled: run it with the POST above') +
        '; list the problems with `npm run audit -- list`',
      `  tables: ${tables.join(', ')}`,
    );
  }
  const decisionLog = readSettings(env);
  if (hasFunction('allocate') && decisionLog.DECISION_LOG_ENABLED) {
    const table = decisionsTableName(decisionLog.AUDIT_TABLE_PREFIX);
    banner.push(
      `Decisions: every allocation in ${table}; \`npm run audit -- decisions --since 1h\` shows them`,
    );
  }
  return { name: 'Functions host', host, webhookUrl, functionKey, banner, stop: () => host.stop() };
}
