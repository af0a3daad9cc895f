// Roles on the EXISTING Device Provisioning Service; main.bicep deploys this into the DPS's resource group.
param dpsName string

@description('Principal (object) id of the app\'s user-assigned identity: reads enrollment groups and registration states.')
param appPrincipalId string

@description('Principal (object) id of whoever runs the postprovision hook, which updates enrollment groups; empty = no grant.')
param deployerPrincipalId string = ''

@description('Resource id of the storage account that receives the DPS\'s DeviceOperations resource logs; empty = no diagnostic setting.')
param deviceLogsStorageAccountId string = ''

@description('Name of that diagnostic setting; names are per DPS, so each environment sharing the DPS needs its own.')
param deviceLogsSettingName string = 'dps-allocator-device-operations'

// Built-in "Device Provisioning Service Data Reader" (data action Microsoft.Devices/provisioningServices/*/read) and
// "Device Provisioning Service Data Contributor" (Microsoft.Devices/provisioningServices/*). Source:
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/internet-of-things#device-provisioning-service-data-reader
// (MicrosoftDocs/azure-docs, articles/role-based-access-control/built-in-roles/internet-of-things.md).
var dpsDataReader = '10745317-c249-44a1-a5ce-3a4353c0bbd8'
var dpsDataContributor = 'dfce44e4-17b7-4bd1-a6d1-04996ec95633'

resource dps 'Microsoft.Devices/provisioningServices@2022-12-12' existing = {
  name: dpsName
}

resource appReadsDps 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dps.id, appPrincipalId, dpsDataReader)
  scope: dps
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dpsDataReader)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// No principalType: the deployer may be a user or a CI service principal.
resource deployerWritesEnrollmentGroups 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(dps.id, deployerPrincipalId, dpsDataContributor)
  scope: dps
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dpsDataContributor)
    principalId: deployerPrincipalId
  }
}

// Devices refused at attestation keep no registration state: only the DeviceOperations logs show them. Azure Monitor
// writes them as PT1H.json blobs under insights-logs-deviceoperations/resourceId=<DPS id upper case>/...
// (https://learn.microsoft.com/azure/azure-monitor/essentials/resource-logs#send-to-azure-storage). The account must be
// in the DPS's region. Turning the param off later leaves this setting in place: delete it on the DPS.
resource deviceLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(deviceLogsStorageAccountId)) {
  name: deviceLogsSettingName
  scope: dps
  properties: {
    storageAccountId: deviceLogsStorageAccountId
    logs: [
      {
        category: 'DeviceOperations'
        enabled: true
      }
    ]
  }
}

// Host name of the DPS service API (the audit and the hook's configure step call it).
output serviceOperationsHostName string = dps.properties.serviceOperationsHostName

// Azure Monitor names the log blobs after this id, in upper case (the audit's AUDIT_DPS_LOGS_PREFIX).
output dpsResourceId string = dps.id
