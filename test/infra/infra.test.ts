// Keeps infra/ (Bicep, azd) in step with the code: every app setting the code reads (settingsSchema in
// src/settings.ts) is set on the Function App, every app setting set there is read by the code or the platform,
// and azd's files (main.parameters.json, azure.yaml, the hooks) agree with main.bicep. The alert rules query the
// event name and fields the audit's run line really writes (src/audit/scan/run-log-line.ts).
// Bicep cannot be compiled here, so the files are read as text: bicep-text.ts lists what that reader misses.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEPLOY_DIR } from '../../dev/deploy-package/stage';
import { runOutcomeSchema, type ScanRunRow } from '../../src/audit/rows/tables';
import { AUDIT_SCAN_RUN_EVENT, scanRunLine } from '../../src/audit/scan/run-log-line';
import { readSettings, settingsSchema } from '../../src/settings';
import '../../src/functions/allocate';
import { stopRegisteredApp, triggerOf } from '../support/registered-functions';
import { readBicep, type BicepFile } from './support/bicep-text';
import { readYamlSubset, type YamlMap } from './support/yaml-subset';

// Stands in for the Functions host so the allocate function's real route can be read.
afterAll(stopRegisteredApp);

/**
 * Settings the Bicep may leave out because the default in src/settings.ts is right in Azure, with the reason.
 * Keep it empty or tiny: a setting left out cannot be changed with `azd env set` or a redeployment.
 */
const DEFAULT_IS_RIGHT_IN_AZURE: Readonly<Record<string, string>> = {};

/** App settings read by the Functions host, the platform or a library rather than by settingsSchema. */
const PLATFORM_SETTINGS: ReadonlyArray<{ pattern: RegExp; readBy: string }> = [
  { pattern: /^AzureWebJobsStorage__\w+$/, readBy: 'Functions host: identity-based storage connection' },
  { pattern: /^APPLICATIONINSIGHTS_[A-Z_]+$/, readBy: 'Functions host: Application Insights' },
  { pattern: /^FUNCTIONS_[A-Z_]+$/, readBy: 'Functions runtime' },
  { pattern: /^AzureFunctionsJobHost__\w+$/, readBy: 'Functions host: host.json overrides' },
  {
    pattern: /^AZURE_CLIENT_ID$/,
    readBy: '@azure/identity: the user-assigned identity DefaultAzureCredential uses',
  },
];

/**
 * Settings that must not be set. Flex Consumption deprecates the first ones (runtime and content settings moved to
 * functionAppConfig: learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations);
 * a plain AzureWebJobsStorage would be a connection string with a key, and the account has shared keys off.
 */
const FORBIDDEN_SETTINGS = [
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
  'AzureWebJobsStorage',
];

/** Variables azd itself gives hooks, besides the outputs of main.bicep. */
const AZD_VARIABLES = ['AZURE_ENV_NAME', 'AZURE_LOCATION', 'AZURE_SUBSCRIPTION_ID', 'AZURE_PRINCIPAL_ID'];

const ROOT = path.resolve(__dirname, '../..');
const INFRA = path.join(ROOT, 'infra');

function bicepFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return bicepFilesUnder(full);
    return entry.name.endsWith('.bicep') ? [full] : [];
  });
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const readJson = <T>(file: string) => JSON.parse(read(file)) as T;

const bicepFiles = new Map<string, BicepFile>(
  bicepFilesUnder(INFRA).map((full) => [
    path.relative(ROOT, full).split(path.sep).join('/'),
    readBicep(readFileSync(full, 'utf8')),
  ]),
);
const main = bicepFiles.get('infra/main.bicep')!;
const allCode = [...bicepFiles.values()].map((file) => file.code).join('\n');
const appSettings = [...bicepFiles.values()].flatMap((file) => file.appSettings);
const appSettingNames = appSettings.map((setting) => setting.name);
const outputNames = main.outputs.map((output) => output.name);

const schemaKeys = Object.keys(settingsSchema.shape);
/** How the schema reads a setting that is absent: its default, undefined when optional, or a failure. */
const whenAbsent = (key: string) =>
  settingsSchema.shape[key as keyof typeof settingsSchema.shape].safeParse(undefined);
const hasDefault = (key: string) => whenAbsent(key).data !== undefined;

const azureYaml = readYamlSubset(read('azure.yaml'));
function yamlMap(value: YamlMap[string] | undefined, what: string): YamlMap {
  if (typeof value !== 'object') throw new Error(`azure.yaml: ${what} is not a mapping`);
  return value;
}
const services = yamlMap(azureYaml.services, 'services');

it('finds the template it checks (a reader that saw nothing would pass every test below)', () => {
  expect(main).toBeDefined();
  expect(main.params.length).toBeGreaterThan(0);
  expect(outputNames.length).toBeGreaterThan(0);
  expect(appSettingNames.length).toBeGreaterThan(schemaKeys.length);
  const sites = [...bicepFiles.values()].flatMap((file) =>
    file.resources.filter((resource) => resource.type === 'Microsoft.Web/sites' && !resource.existing),
  );
  expect(sites).toHaveLength(1); // every name/value pair the reader finds belongs to this one Function App
});

describe('app settings and src/settings.ts', () => {
  it('sets every setting the code reads on the Function App', () => {
    for (const [key, reason] of Object.entries(DEFAULT_IS_RIGHT_IN_AZURE)) {
      expect({ key, inSchema: schemaKeys.includes(key), hasDefault: hasDefault(key), reason }).toEqual({
        key,
        inSchema: true,
        hasDefault: true,
        reason: expect.stringMatching(/\w/),
      });
    }
    const missing = schemaKeys.filter(
      (key) => !appSettingNames.includes(key) && !(key in DEFAULT_IS_RIGHT_IN_AZURE),
    );
    expect(missing).toEqual([]); // add each one to `appSettings` in infra/main.bicep, with a param behind it
  });

  it('can leave a setting empty in Bicep to mean "use the default in src/settings.ts"', () => {
    // main.bicep's setting params default to '': the app must read an empty setting as an absent one.
    const outcome = (env: NodeJS.ProcessEnv) => {
      try {
        return readSettings(env);
      } catch (error) {
        return String(error);
      }
    };
    const optional = schemaKeys.filter((key) => whenAbsent(key).success);
    expect(optional.length).toBeGreaterThan(0);
    expect(outcome(Object.fromEntries(optional.map((key) => [key, ''])))).toEqual(outcome({}));
  });

  it('sets nothing but settings the code or the platform reads', () => {
    const unknown = appSettingNames.filter(
      (name) => !schemaKeys.includes(name) && !PLATFORM_SETTINGS.some(({ pattern }) => pattern.test(name)),
    );
    expect(unknown).toEqual([]);
  });

  it('sets each setting once, and none that Flex Consumption deprecates or that needs a storage key', () => {
    const repeated = appSettingNames.filter((name, index) => appSettingNames.indexOf(name) !== index);
    expect(repeated).toEqual([]);
    expect(appSettingNames.filter((name) => FORBIDDEN_SETTINGS.includes(name))).toEqual([]);
  });

  it('declares app settings only in the name/value form the reader sees', () => {
    const configResources = [...bicepFiles.values()].flatMap((file) =>
      file.resources.filter(
        (resource) => resource.type === 'Microsoft.Web/sites/config' || resource.type === 'config',
      ),
    );
    expect(configResources).toEqual([]);
    expect(allCode).not.toMatch(/appSettingsKeyValuePairs/); // the AVM module's object form
  });

  it('connects the host to storage and Application Insights through the managed identity', () => {
    const value = (name: string) => appSettings.find((setting) => setting.name === name)?.value;
    expect(value('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    for (const name of ['clientId', 'blobServiceUri', 'queueServiceUri', 'tableServiceUri']) {
      expect(value(`AzureWebJobsStorage__${name}`)).toMatch(/\w/);
    }
    expect(value('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toMatch(
      /^'ClientId=\$\{\w+\};Authorization=AAD'$/,
    );
    expect(value('APPLICATIONINSIGHTS_CONNECTION_STRING')).toMatch(/\w/);
  });
});

describe('infra/main.bicep and main.parameters.json', () => {
  const parameters = readJson<{ parameters: Record<string, { value: unknown }> }>(
    'infra/main.parameters.json',
  ).parameters;

  it('maps only declared params, covers every param without a default, and takes values from azd', () => {
    const declared = main.params.map((param) => param.name);
    expect(Object.keys(parameters).filter((name) => !declared.includes(name))).toEqual([]);
    const required = main.params.filter((param) => !param.hasDefault).map((param) => param.name);
    expect(required.filter((name) => !(name in parameters))).toEqual([]);
    for (const [name, { value }] of Object.entries(parameters)) {
      expect({ name, value }).toEqual({
        name,
        value: expect.stringMatching(/^\$\{[A-Z][A-Z0-9_]*(=[^}]*)?\}$/),
      });
    }
  });

  it('outputs what azd, the hook and the README need', () => {
    expect(outputNames).toEqual(
      expect.arrayContaining([
        'AZURE_LOCATION',
        'AZURE_TENANT_ID',
        'AZURE_RESOURCE_GROUP',
        'SERVICE_API_NAME',
        'ALLOCATE_WEBHOOK_URL',
      ]),
    );
  });

  it('outputs the webhook URL of the route the allocate function registers', () => {
    const trigger = triggerOf('allocate');
    const host = readJson<{ extensions?: { http?: { routePrefix?: string } } }>('host.json');
    const prefix = host.extensions?.http?.routePrefix ?? 'api';
    const webhook = main.outputs.find((output) => output.name === 'ALLOCATE_WEBHOOK_URL');
    expect(trigger?.route).toEqual(expect.any(String));
    expect(webhook?.expression).toMatch(new RegExp(`}/${prefix}/${String(trigger?.route)}'$`));
  });

  it('refers only to module files and abbreviations that exist', () => {
    for (const [file, bicep] of bicepFiles) {
      for (const module of bicep.modules.filter((m) => !/^(br|ts)[:/]/.test(m.path))) {
        const target = path.join(ROOT, path.dirname(file), module.path);
        expect({ file, module: module.path, exists: existsSync(target) }).toEqual({
          file,
          module: module.path,
          exists: true,
        });
      }
    }
    const abbreviations = readJson<Record<string, string>>('infra/abbreviations.json');
    const used = [...main.code.matchAll(/\babbrs\.(\w+)/g)].map((match) => match[1]!);
    expect(used.filter((key) => !(key in abbreviations))).toEqual([]);
  });

  it('runs the Node major version package.json requires, on Flex Consumption', () => {
    const engines = readJson<{ engines: { node: string } }>('package.json').engines.node;
    const major = /(\d+)/.exec(engines)?.[1];
    expect(allCode).toMatch(/sku:\s*\{\s*tier:\s*'FlexConsumption'\s*name:\s*'FC1'/);
    expect(allCode).toMatch(
      new RegExp(`runtime:\\s*\\{\\s*name:\\s*'node'\\s*version:\\s*'${major}'\\s*\\}`),
    );
  });

  it('turns off shared keys on storage and local auth on Application Insights and Log Analytics', () => {
    expect(allCode).toMatch(/allowSharedKeyAccess:\s*false/);
    expect(allCode).toMatch(/DisableLocalAuth:\s*true/);
    expect(allCode).toMatch(/disableLocalAuth:\s*true/);
  });

  it('grants the identity the data roles the app and the host need', () => {
    const roles = {
      'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
      'Device Provisioning Service Data Reader': '10745317-c249-44a1-a5ce-3a4353c0bbd8',
      'IoT Hub Data Reader': 'b447c946-2db7-41ec-983d-d8bf3b1c77e3',
      'EventGrid Data Sender': 'd5a91429-5739-47e2-a06b-3470a27159e7',
    };
    const granted = Object.entries(roles).filter(([, id]) => allCode.includes(`'${id}'`));
    expect(Object.fromEntries(granted)).toEqual(roles);
  });

  it('archives the DPS DeviceOperations logs where AUDIT_DPS_LOGS_CONTAINER and _PREFIX point, when asked to', () => {
    // Azure Monitor's layout: container insights-logs-<category>, blobs under resourceId=<RESOURCE ID>/
    // (learn.microsoft.com/azure/azure-monitor/essentials/resource-logs#send-to-azure-storage).
    const dpsAccess = bicepFiles.get('infra/app/dps-access.bicep')!;
    expect(dpsAccess.resources).toContainEqual(
      expect.objectContaining({ type: 'Microsoft.Insights/diagnosticSettings', existing: false }),
    );
    expect(dpsAccess.code).toMatch(
      /diagnosticSettings@[^']+' = if \(!empty\(deviceLogsStorageAccountId\)\) \{\s*name: \w+\s*scope: dps\s/,
    );
    expect(dpsAccess.code).toMatch(
      /storageAccountId: deviceLogsStorageAccountId\s*logs: \[\s*\{\s*category: 'DeviceOperations'\s*enabled: true\s*\}\s*\]/,
    );
    expect(main.params).toContainEqual({ name: 'auditDpsDeviceLogs', type: 'bool', hasDefault: true });
    expect(main.code).toMatch(/deviceLogsStorageAccountId: auditDpsDeviceLogs \? storage\.outputs\.id : ''/);
    const value = (name: string) => appSettings.find((setting) => setting.name === name)?.value;
    expect(value('AUDIT_DPS_LOGS_CONTAINER')).toBe(
      "auditDpsDeviceLogs ? 'insights-logs-deviceoperations' : ''",
    );
    expect(value('AUDIT_DPS_LOGS_PREFIX')).toBe(
      "auditDpsDeviceLogs ? 'resourceId=${toUpper(dpsAccess.outputs.dpsResourceId)}/' : ''",
    );
    expect(dpsAccess.outputs).toContainEqual({ name: 'dpsResourceId', type: 'string', expression: 'dps.id' });
  });
});

describe('infra/app/iot-hub-access.bicep', () => {
  const hubAccess = bicepFiles.get('infra/app/iot-hub-access.bicep')!;
  const value = (name: string) => appSettings.find((setting) => setting.name === name)?.value;

  it('gives the identity IoT Hub Data Reader on each hub of iotHubNames, in their resource group', () => {
    // learn.microsoft.com/azure/role-based-access-control/built-in-roles/internet-of-things#iot-hub-data-reader
    expect(hubAccess.params).toEqual([
      { name: 'hubNames', type: 'array', hasDefault: false },
      { name: 'appPrincipalId', type: 'string', hasDefault: false },
    ]);
    expect(hubAccess.resources).toEqual([
      expect.objectContaining({ symbol: 'hubs', type: 'Microsoft.Devices/IotHubs', existing: true }),
      expect.objectContaining({ type: 'Microsoft.Authorization/roleAssignments', existing: false }),
    ]);
    expect(hubAccess.code).toMatch(/existing = \[\s*for name in hubNames: \{\s*name: name\s*\}\s*\]/);
    expect(hubAccess.code).toMatch(
      /for \(name, i\) in hubNames: \{\s*name: guid\(hubs\[i\]\.id, appPrincipalId, iotHubDataReader\)\s*scope: hubs\[i\]/,
    );
    expect(hubAccess.code).toMatch(/var iotHubDataReader = 'b447c946-2db7-41ec-983d-d8bf3b1c77e3'/);
    expect(hubAccess.code).toMatch(/principalId: appPrincipalId\s*principalType: 'ServicePrincipal'/);

    expect(main.params).toEqual(
      expect.arrayContaining([
        { name: 'iotHubNames', type: 'string', hasDefault: true },
        { name: 'iotHubResourceGroupName', type: 'string', hasDefault: true },
      ]),
    );
    expect(main.modules).toContainEqual({ symbol: 'iotHubAccess', path: 'app/iot-hub-access.bicep' });
    expect(main.code).toMatch(
      /var hubResourceGroupName = empty\(iotHubResourceGroupName\) \? dpsResourceGroupName : iotHubResourceGroupName/,
    );
    expect(main.code).toMatch(
      /module iotHubAccess '[^']+' = if \(!empty\(hubNames\)\) \{\s*name: '[^']+'\s*scope: resourceGroup\(hubResourceGroupName\)\s*params: \{\s*hubNames: hubNames\s*appPrincipalId: identity\.outputs\.principalId\s*\}/,
    );
  });

  it('sets HUB_LOAD_HUBS to the host names of those hubs, and no hub connection strings', () => {
    expect(main.code).toMatch(
      /var hubNames = filter\(map\(split\(iotHubNames, ','\), name => trim\(name\)\), name => !empty\(name\)\)/,
    );
    expect(value('HUB_LOAD_HUBS')).toBe("join(map(hubNames, name => '${name}.azure-devices.net'), ',')");
    expect(value('HUB_LOAD_CONNECTION_STRINGS')).toBe("''");
  });
});

describe('infra/app/alerts.bicep', () => {
  const alerts = bicepFiles.get('infra/app/alerts.bicep')!;
  /** The common start of every query: a ''' string, so taken as it is. */
  const scanRunLines = /var scanRunLines = '''\n?([\s\S]*?)'''/.exec(alerts.code)?.[1] ?? '';
  /** Each entry of `var rules`, as its properties' source text. */
  const rules = (/var rules = \[([\s\S]*?)\n\]/.exec(alerts.code)?.[1] ?? '')
    .split(/\n {2}\{\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const entries = [...block.matchAll(/^ {4}(\w+): (.+)$/gm)].map((m) => [m[1]!, m[2]!.trim()]);
      return Object.fromEntries(entries) as Record<string, string>;
    });
  const text = (literal: string | undefined) =>
    (literal ?? '').replace(/^'|'$/g, '').replace('${scanRunLines}', scanRunLines).replace(/\\n/g, '\n');
  const rule = (name: string) => rules.find((r) => r.name === `'${name}'`)!;
  const queryOf = (name: string) => text(rule(name).query);
  const line = scanRunLine({
    partitionKey: 'runs',
    rowKey: 'k',
    runId: 'r',
    startedAt: new Date(0),
    endedAt: new Date(0),
    durationMs: 0,
    outcome: 'failed',
    detail: 'd',
    enrollmentGroupsRead: 0,
    individualEnrollmentsRead: 0,
    registrationsRead: 0,
    problemsSeen: 0,
    problemsFound: 0,
    problemsResolved: 0,
    entitiesWritten: 0,
    dpsOperations: 0,
    throttled429: 0,
    dpsRetries: 0,
  } satisfies ScanRunRow);

  it('has the three rules of the issue, as log alerts on the workspace the app logs to', () => {
    expect(rules.map((r) => r.name)).toEqual(["'new-problems'", "'scan-failed'", "'no-completed-scan'"]);
    expect(alerts.resources).toContainEqual({
      symbol: 'rule',
      type: 'Microsoft.Insights/scheduledQueryRules',
      apiVersion: '2023-12-01',
      existing: false,
    });
    expect(alerts.code).toMatch(/kind: 'LogAlert'/);
    expect(alerts.code).toMatch(/scopes: \[workspaceId\]/);
    expect(alerts.code).toMatch(
      /metricMeasureColumn: r\.measure\s*operator: r\.operator\s*threshold: r\.threshold/,
    );
    expect(main.modules).toContainEqual({ symbol: 'alerts', path: 'app/alerts.bicep' });
    expect(main.code).toMatch(/workspaceId: monitoring\.outputs\.logAnalyticsWorkspaceId/);
    expect(bicepFiles.get('infra/core/monitoring.bicep')!.outputs).toContainEqual({
      name: 'logAnalyticsWorkspaceId',
      type: 'string',
      expression: 'logAnalytics.id',
    });
  });

  it('queries AppTraces for the event name and the fields the run line really writes', () => {
    expect(scanRunLines).toMatch(/^AppTraces\n/);
    expect(scanRunLines).toContain(`| where Message has '${AUDIT_SCAN_RUN_EVENT}'`);
    expect(scanRunLines).toContain(`| where tostring(e.event) == '${AUDIT_SCAN_RUN_EVENT}'`);
    for (const r of rules) {
      const query = text(r.query);
      const fields = [...query.matchAll(/\be\.(\w+)/g)].map((m) => m[1]!);
      const outcomes = [...query.matchAll(/e\.outcome\) == "(\w+)"/g)].map((m) => m[1]!);
      const measured = /\| summarize (\w+) = /.exec(query)?.[1];
      expect({ rule: r.name, unknownFields: fields.filter((field) => !(field in line)) }).toEqual({
        rule: r.name,
        unknownFields: [],
      });
      expect(outcomes.every((outcome) => runOutcomeSchema.safeParse(outcome).success)).toBe(true);
      expect({ rule: r.name, measure: `'${measured}'` }).toEqual({ rule: r.name, measure: r.measure });
      expect(query).not.toMatch(/\| summarize .* by /); // one row, also when nothing matched
    }
  });

  it('alerts on new problems, on a failed run, and on no completed run in noCompletedScanHours', () => {
    expect(queryOf('new-problems')).toMatch(/\| summarize newProblems = sum\(toint\(e\.newProblems\)\)$/);
    expect(rule('new-problems')).toMatchObject({ operator: "'GreaterThan'", threshold: '0' });
    expect(queryOf('scan-failed')).toMatch(
      /\| where tostring\(e\.outcome\) == "failed"\n\| summarize failedRuns = count\(\)$/,
    );
    expect(rule('scan-failed')).toMatchObject({ operator: "'GreaterThan'", threshold: '0' });
    expect(queryOf('no-completed-scan')).toMatch(
      /\| where tostring\(e\.outcome\) == "completed"\n\| summarize completedRuns = count\(\)$/,
    );
    expect(rule('no-completed-scan')).toMatchObject({
      operator: "'LessThan'",
      threshold: '1',
      window: "'PT${noCompletedScanHours}H'",
    });
    // Log search alerts look back at most two days: learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule
    const hours = /((?:@\w+\([^)]*\)\s*)+)param noCompletedScanHours int = (\d+)/.exec(main.code);
    expect(hours?.[1]).toMatch(/@minValue\(1\)\s*@maxValue\(48\)/);
    expect(hours?.[2]).toBe('6');
    expect(main.code).toMatch(/noCompletedScanHours: noCompletedScanHours/);
  });

  it("e-mails alertEmail through an action group, and deploys none when it's empty", () => {
    expect(main.params).toContainEqual({ name: 'alertEmail', type: 'string', hasDefault: true });
    expect(main.code).toMatch(/param alertEmail string = ''/);
    expect(main.code).toMatch(/alertEmail: alertEmail/);
    expect(alerts.resources).toContainEqual({
      symbol: 'actionGroup',
      type: 'Microsoft.Insights/actionGroups',
      apiVersion: '2023-01-01',
      existing: false,
    });
    expect(alerts.code).toMatch(
      /actionGroups@2023-01-01' = if \(!empty\(alertEmail\)\) \{\s*name: actionGroupName\s*location: 'Global'/,
    );
    expect(alerts.code).toMatch(/emailAddress: alertEmail/);
    const shortName = /groupShortName: '([^']*)'/.exec(alerts.code)?.[1];
    expect(shortName?.length).toBeLessThanOrEqual(12); // learn.microsoft.com/azure/templates/microsoft.insights/actiongroups
    expect(alerts.code).toMatch(
      /actionGroups: empty\(alertEmail\) \? \[\] : \[resourceId\('Microsoft\.Insights\/actionGroups', actionGroupName\)\]/,
    );
  });
});

describe('infra/app/events-topic.bicep', () => {
  const value = (name: string) => appSettings.find((setting) => setting.name === name)?.value;

  it('creates the events topic only when events are enabled, and points EVENTS_TOPIC_ENDPOINT at it without a key', () => {
    const topic = bicepFiles.get('infra/app/events-topic.bicep')!;
    expect(main.params).toContainEqual({ name: 'eventsEnabled', type: 'bool', hasDefault: true });
    expect(main.code).toMatch(/param eventsEnabled bool = false/);
    expect(main.modules).toContainEqual({ symbol: 'eventsTopic', path: 'app/events-topic.bicep' });
    expect(main.code).toMatch(
      /module eventsTopic '[^']+' = if \(eventsEnabled\) \{[\s\S]*?senderPrincipalId: identity\.outputs\.principalId/,
    );
    expect(value('EVENTS_TOPIC_ENDPOINT')).toBe("eventsEnabled ? eventsTopic.outputs.endpoint : ''");
    expect(value('EVENTS_TOPIC_KEY')).toBe("''");
    expect(topic.resources).toContainEqual({
      symbol: 'topic',
      type: 'Microsoft.EventGrid/topics',
      apiVersion: '2025-02-15',
      existing: false,
    });
    // The SDK publishes as 'CloudEvent'; the topic must take that schema (docs/events-contract.md §2.1, §5).
    expect(topic.code).toMatch(/inputSchema: 'CloudEventSchemaV1_0'/);
    expect(topic.code).toMatch(/disableLocalAuth: true/);
    expect(topic.code).toMatch(/var eventGridDataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7'/);
    expect(topic.code).toMatch(
      /name: guid\(topic\.id, senderPrincipalId, eventGridDataSender\)\s*scope: topic\s*properties: \{\s*roleDefinitionId: subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', eventGridDataSender\)\s*principalId: senderPrincipalId\s*principalType: 'ServicePrincipal'/,
    );
    expect(topic.outputs).toContainEqual({
      name: 'endpoint',
      type: 'string',
      expression: 'topic.properties.endpoint',
    });
  });
});

describe('azure.yaml and the hooks', () => {
  it('deploys the api service as a function app, found by its tag, named by SERVICE_API_NAME', () => {
    const [name, service] = Object.entries(services)[0] ?? [];
    expect(Object.keys(services)).toEqual([name]);
    expect(service).toMatchObject({ project: '.', language: 'ts', host: 'function' });
    const tags = [...allCode.matchAll(/'azd-service-name':\s*'([^']+)'/g)].map((match) => match[1]);
    expect(tags).toEqual([name]);
    expect(outputNames).toContain(`SERVICE_${String(name).toUpperCase()}_NAME`);
  });

  it('deploys the staged package: production node_modules built here, zipped from dist', () => {
    // azd zips `dist` and, with remoteBuild false and no .funcignore there, keeps its node_modules:
    // https://learn.microsoft.com/azure/developer/azure-developer-cli/service-packaging-ignore-files
    const api = yamlMap(services.api, 'services.api');
    expect({ dist: api.dist, remoteBuild: api.remoteBuild }).toEqual({
      dist: DEPLOY_DIR,
      remoteBuild: 'false',
    });
    const prepackage = yamlMap(yamlMap(api.hooks, 'services.api.hooks').prepackage, 'hooks.prepackage');
    for (const platform of ['posix', 'windows']) {
      expect({ platform, run: yamlMap(prepackage[platform], platform).run }).toEqual({
        platform,
        run: 'npm run package:azure',
      });
    }
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['package:azure']).toBe('npm run build && node dist/dev/deploy-package/main.js');
    expect(read('.gitignore').split(/\r?\n/)).toContain(`${DEPLOY_DIR}/`);
  });

  it('has a postprovision hook for POSIX and Windows, and both files exist', () => {
    const postprovision = yamlMap(yamlMap(azureYaml.hooks, 'hooks').postprovision, 'hooks.postprovision');
    for (const platform of ['posix', 'windows']) {
      const hook = yamlMap(postprovision[platform], `hooks.postprovision.${platform}`);
      expect({ platform, exists: existsSync(path.join(ROOT, String(hook.run))) }).toEqual({
        platform,
        exists: true,
      });
    }
  });

  it('hooks read only variables azd provides, and both scripts read the same ones', () => {
    const variables = (text: string, pattern: RegExp) =>
      [...new Set([...text.matchAll(pattern)].map((match) => match[1]!))].sort();
    const sh = variables(read('infra/hooks/postprovision.sh'), /\$\{?([A-Z_][A-Z0-9_]*)/g);
    const ps1 = variables(read('infra/hooks/postprovision.ps1'), /\$env:([A-Za-z_][A-Za-z0-9_]*)/g);
    expect(ps1).toEqual(sh);
    expect(sh.filter((name) => !outputNames.includes(name) && !AZD_VARIABLES.includes(name))).toEqual([]);
    expect(sh).toContain('DPS_ENROLLMENT_GROUPS');
  });
});
