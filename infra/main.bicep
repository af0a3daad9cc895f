// dps-allocator in Azure, laid out as an Azure Developer CLI template: `azd up` provisions this file and deploys the app.
// It creates, in a new resource group:
//   - a Function App on the Flex Consumption plan (Linux, Node 20) that runs the `allocate` webhook (and the audit timer),
//   - a storage account with shared-key access off: identity-based AzureWebJobsStorage, the deployment package
//     container and the audit tables,
//   - Log Analytics and Application Insights with local (key) authentication off,
//   - a user-assigned managed identity the app runs as, with data roles on the storage account and Application Insights,
// and, on an EXISTING Device Provisioning Service (dpsName in dpsResourceGroupName), gives that identity
// Device Provisioning Service Data Reader (the audit reads enrollment groups and registration states) and, with
// auditDpsDeviceLogs, adds a diagnostic setting archiving the DPS's DeviceOperations logs to the storage account;
// on the EXISTING IoT hubs of iotHubNames, gives it IoT Hub Data Reader (the hub-load timer reads their device counts).
// Azure Monitor log alerts read the audit's run lines (app/alerts.bicep, docs/alerts.md); with eventsEnabled, an Event
// Grid topic receives the lifecycle events (app/events-topic.bicep).
// Enrollment groups are DPS data plane, not ARM: the postprovision hook (infra/hooks) points them at the webhook.
// The app settings the code reads are declared in src/settings.ts; test/infra/infra.test.ts keeps the two in step.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used in resource names and in the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of every new resource. It must offer Flex Consumption: az functionapp list-flexconsumption-locations.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Name of the resource group to create; empty = rg-<environmentName>.')
param resourceGroupName string = ''

@description('Name of the existing Device Provisioning Service whose enrollment groups call the webhook.')
param dpsName string

@description('Resource group of that Device Provisioning Service (same subscription).')
param dpsResourceGroupName string

@description('Comma-separated enrollment group ids the postprovision hook points at the webhook; empty = the hook does nothing.')
param dpsEnrollmentGroups string = ''

@description('Comma-separated names (not host names) of the existing IoT hubs whose device counts allocation reads (HUB_LOAD_HUBS); the app\'s identity gets IoT Hub Data Reader on each. Empty = no hub counts.')
param iotHubNames string = ''

@description('Resource group of those IoT hubs (same subscription); empty = dpsResourceGroupName.')
param iotHubResourceGroupName string = ''

@description('Object id of whoever runs azd (azd fills AZURE_PRINCIPAL_ID). When dpsEnrollmentGroups is set, it gets Device Provisioning Service Data Contributor on the DPS so the hook can update those groups.')
param principalId string = ''

@description('Flex Consumption: most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption: memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// App settings the code reads (src/settings.ts). Empty means "not set": the code then uses the default in src/settings.ts.
@description('ALLOCATION_POLICY: inline allocation policy JSON; empty = read ALLOCATION_POLICY_PATH. Not mapped in main.parameters.json because azd pastes env values into that JSON text unescaped.')
param allocationPolicy string = ''

@description('ALLOCATION_POLICY_PATH: policy file, relative to the app root; empty = the default in src/settings.ts.')
param allocationPolicyPath string = ''

@description('ALLOCATE_MAX_BODY_BYTES: largest webhook request body accepted, in bytes; empty = the default in src/settings.ts.')
param allocateMaxBodyBytes string = ''

@description('AUDIT_SCHEDULE: NCRONTAB schedule of the audit timer (6 fields, seconds first); empty = the default in src/settings.ts.')
param auditSchedule string = ''

@description('AUDIT_TABLE_PREFIX: prefix of the audit table names; empty = the default in src/settings.ts.')
param auditTablePrefix string = ''

@description('AUDIT_TIME_BUDGET_SECONDS: time budget of one audit run, in seconds; empty = the default in src/settings.ts.')
param auditTimeBudgetSeconds string = ''

@description('AUDIT_MAX_OPERATIONS_PER_RUN: DPS operations one audit run may use; empty = the default in src/settings.ts.')
param auditMaxOperationsPerRun string = ''

@description('AUDIT_DPS_OPERATIONS_PER_MINUTE: DPS operations per minute the audit may use (DPS allows 1,000); empty = the default in src/settings.ts.')
param auditDpsOperationsPerMinute string = ''

@description('AUDIT_ASSIGNING_GRACE_MINUTES: minutes a registration may stay assigning before it counts as a problem; empty = the default in src/settings.ts.')
param auditAssigningGraceMinutes string = ''

@description('AUDIT_LAST_SEEN_REFRESH_HOURS: hours after which an unchanged problem row's lastSeen is refreshed; empty = the default in src/settings.ts.')
param auditLastSeenRefreshHours string = ''

@description('AUDIT_EXPECTED_WEBHOOK_URL: webhook URL enrollments should point at; empty = this app's allocate URL; empty = the default in src/settings.ts.')
param auditExpectedWebhookUrl string = ''

@description('AUDIT_PAGE_SIZE: registration states per DPS query page; empty = the default in src/settings.ts.')
param auditPageSize string = ''

@description('AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS: days before an enrollment certificate expires that the audit warns; empty = the default in src/settings.ts.')
param auditCertificateExpiryWarningDays string = ''

@description('Archive the DPS DeviceOperations resource logs to the app storage account (a diagnostic setting on the DPS) so the audit sees devices refused at attestation.')
param auditDpsDeviceLogs bool = true

@description('AUDIT_DPS_LOGS_LOOKBACK_HOURS: hours of archived DPS logs the audit reads the first time; empty = the default in src/settings.ts.')
param auditDpsLogsLookbackHours string = ''

@description('DECISION_LOG_ENABLED: true or false, whether allocate records each decision in the decision table; empty = the default in src/settings.ts.')
param decisionLogEnabled string = ''

@description('DECISION_LOG_MAX_WAIT_MS: longest allocate waits for its decision row before answering DPS, in ms; empty = the default in src/settings.ts.')
param decisionLogMaxWaitMs string = ''

@description('DECISION_LOG_MAX_QUEUE: most decision rows held while table storage is unreachable; empty = the default in src/settings.ts.')
param decisionLogMaxQueue string = ''

@description('HUB_LOAD_SCHEDULE: NCRONTAB schedule of the hub-load timer (6 fields, seconds first); empty = the default in src/settings.ts.')
param hubLoadSchedule string = ''

@description('HUB_LOAD_REFRESH_SECONDS: how often allocate reloads the hub device counts, in seconds; empty = the default in src/settings.ts.')
param hubLoadRefreshSeconds string = ''

@description('HUB_LOAD_MAX_AGE_SECONDS: age in seconds after which hub device counts are stale; empty = the default in src/settings.ts.')
param hubLoadMaxAgeSeconds string = ''

@description('E-mail address the audit alerts go to (an action group with this one receiver). Empty = no action group: the alert rules still fire and show under Monitor > Alerts, telling no one.')
param alertEmail string = ''

@description('Hours without a completed audit scan before the "no completed scan" alert fires (1-48: log search alerts look back at most two days).')
@minValue(1)
@maxValue(48)
param noCompletedScanHours int = 6

@description('Create an Event Grid topic (CloudEvents 1.0, keys off) for the lifecycle events and point EVENTS_TOPIC_ENDPOINT at it; false = no events.')
param eventsEnabled bool = false

@description('EVENTS_SOURCE: the CloudEvents source of every event; empty = the default in src/settings.ts.')
param eventsSource string = ''

@description('EVENTS_MAX_QUEUE: most events held while the topic is unreachable; empty = the default in src/settings.ts.')
param eventsMaxQueue string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// Flex Consumption runs the package azd uploads to this blob container.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var hubNames = filter(map(split(iotHubNames, ','), name => trim(name)), name => !empty(name))
var hubResourceGroupName = empty(iotHubResourceGroupName) ? dpsResourceGroupName : iotHubResourceGroupName

// One entry per key of settingsSchema (src/settings.ts); the platform's own settings are added in app/api.bicep.
var appSettings = [
  {
    name: 'ALLOCATION_POLICY'
    value: allocationPolicy
  }
  {
    name: 'ALLOCATION_POLICY_PATH'
    value: allocationPolicyPath
  }
  {
    name: 'ALLOCATE_MAX_BODY_BYTES'
    value: allocateMaxBodyBytes
  }
  {
    // The audit reads DPS with the app's identity (Entra ID): no connection string in Azure.
    name: 'DPS_CONNECTION_STRING'
    value: ''
  }
  {
    name: 'DPS_HOST_NAME'
    value: dpsAccess.outputs.serviceOperationsHostName
  }
  {
    // Only for the local DPS emulator's self-signed certificate.
    name: 'DPS_CA_CERTIFICATE_PATH'
    value: ''
  }
  {
    // Empty: the audit tables live in the AzureWebJobsStorage account, reached with the app's identity.
    name: 'AUDIT_STORAGE_CONNECTION_STRING'
    value: ''
  }
  {
    name: 'AUDIT_SCHEDULE'
    value: auditSchedule
  }
  {
    name: 'AUDIT_TABLE_PREFIX'
    value: auditTablePrefix
  }
  {
    name: 'AUDIT_TIME_BUDGET_SECONDS'
    value: auditTimeBudgetSeconds
  }
  {
    name: 'AUDIT_MAX_OPERATIONS_PER_RUN'
    value: auditMaxOperationsPerRun
  }
  {
    name: 'AUDIT_DPS_OPERATIONS_PER_MINUTE'
    value: auditDpsOperationsPerMinute
  }
  {
    name: 'AUDIT_ASSIGNING_GRACE_MINUTES'
    value: auditAssigningGraceMinutes
  }
  {
    name: 'AUDIT_LAST_SEEN_REFRESH_HOURS'
    value: auditLastSeenRefreshHours
  }
  {
    name: 'AUDIT_EXPECTED_WEBHOOK_URL'
    value: auditExpectedWebhookUrl
  }
  {
    name: 'AUDIT_PAGE_SIZE'
    value: auditPageSize
  }
  {
    name: 'AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS'
    value: auditCertificateExpiryWarningDays
  }
  {
    // Azure Monitor's container for the DeviceOperations category, in the AzureWebJobsStorage account.
    name: 'AUDIT_DPS_LOGS_CONTAINER'
    value: auditDpsDeviceLogs ? 'insights-logs-deviceoperations' : ''
  }
  {
    // Blob paths begin resourceId=<resource id in upper case>/: only this DPS's logs.
    name: 'AUDIT_DPS_LOGS_PREFIX'
    value: auditDpsDeviceLogs ? 'resourceId=${toUpper(dpsAccess.outputs.dpsResourceId)}/' : ''
  }
  {
    name: 'AUDIT_DPS_LOGS_LOOKBACK_HOURS'
    value: auditDpsLogsLookbackHours
  }
  {
    // The decision table lives with the audit tables (AUDIT_STORAGE_CONNECTION_STRING, else AzureWebJobsStorage).
    name: 'DECISION_LOG_ENABLED'
    value: decisionLogEnabled
  }
  {
    name: 'DECISION_LOG_MAX_WAIT_MS'
    value: decisionLogMaxWaitMs
  }
  {
    name: 'DECISION_LOG_MAX_QUEUE'
    value: decisionLogMaxQueue
  }
  {
    // Public-cloud host names of iotHubNames; iotHubAccess gives the identity IoT Hub Data Reader on each.
    name: 'HUB_LOAD_HUBS'
    value: join(map(hubNames, name => '${name}.azure-devices.net'), ',')
  }
  {
    // The timer reads the hubs with the app's identity (Entra ID): no connection strings in Azure.
    name: 'HUB_LOAD_CONNECTION_STRINGS'
    value: ''
  }
  {
    // Only for the local IoT Hub emulator: in Azure each hub is reached at its own host name.
    name: 'HUB_LOAD_ENDPOINT'
    value: ''
  }
  {
    name: 'HUB_LOAD_SCHEDULE'
    value: hubLoadSchedule
  }
  {
    name: 'HUB_LOAD_REFRESH_SECONDS'
    value: hubLoadRefreshSeconds
  }
  {
    name: 'HUB_LOAD_MAX_AGE_SECONDS'
    value: hubLoadMaxAgeSeconds
  }
  {
    // The app publishes with its identity (EventGrid Data Sender on the topic): no key.
    name: 'EVENTS_TOPIC_ENDPOINT'
    value: eventsEnabled ? eventsTopic.outputs.endpoint : ''
  }
  {
    // The topic refuses keys (disableLocalAuth).
    name: 'EVENTS_TOPIC_KEY'
    value: ''
  }
  {
    name: 'EVENTS_SOURCE'
    value: eventsSource
  }
  {
    name: 'EVENTS_MAX_QUEUE'
    value: eventsMaxQueue
  }
]

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module monitoring 'core/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    appSettings: appSettings
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    actionGroupName: '${abbrs.insightsActionGroups}${resourceToken}'
    rulePrefix: 'dps-allocator-${resourceToken}'
    workspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    alertEmail: alertEmail
    noCompletedScanHours: noCompletedScanHours
  }
}

module eventsTopic 'app/events-topic.bicep' = if (eventsEnabled) {
  name: 'events-topic'
  scope: rg
  params: {
    name: '${abbrs.eventGridDomainsTopics}${resourceToken}'
    location: location
    tags: tags
    senderPrincipalId: identity.outputs.principalId
  }
}

// Deployed into the DPS's resource group; the name carries the token so two environments sharing a DPS don't collide.
module dpsAccess 'app/dps-access.bicep' = {
  name: 'dps-access-${resourceToken}'
  scope: resourceGroup(dpsResourceGroupName)
  params: {
    dpsName: dpsName
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: empty(dpsEnrollmentGroups) ? '' : principalId
    deviceLogsStorageAccountId: auditDpsDeviceLogs ? storage.outputs.id : ''
    deviceLogsSettingName: 'dps-allocator-device-operations-${resourceToken}'
  }
}

// Deployed into the hubs' resource group, named with the token like dpsAccess; nothing to do without hubs.
module iotHubAccess 'app/iot-hub-access.bicep' = if (!empty(hubNames)) {
  name: 'iot-hub-access-${resourceToken}'
  scope: resourceGroup(hubResourceGroupName)
  params: {
    hubNames: hubNames
    appPrincipalId: identity.outputs.principalId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
// The webhook URL without its key: DPS needs `?code=<function key>` appended (the hook's configure step adds it).
output ALLOCATE_WEBHOOK_URL string = '${api.outputs.uri}/api/allocate'
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
output DPS_NAME string = dpsName
output DPS_RESOURCE_GROUP string = dpsResourceGroupName
output DPS_SERVICE_HOST string = dpsAccess.outputs.serviceOperationsHostName
output DPS_ENROLLMENT_GROUPS string = dpsEnrollmentGroups
output EVENTS_TOPIC_ENDPOINT string = eventsEnabled ? eventsTopic.outputs.endpoint : ''
output ALERT_RULES array = alerts.outputs.ruleNames
