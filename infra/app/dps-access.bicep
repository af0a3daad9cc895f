// Roles on the EXISTING Device Provisioning Service; main.bicep deploys this into the DPS's resource group.
param dpsName string

@description('Principal (object) id of the app\'s user-assigned identity: reads enrollment groups and registration states.')
param appPrincipalId string

@description('Principal (object) id of whoever runs the postprovision hook, which updates enrollment groups; empty = no grant.')
param deployerPrincipalId string = ''

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

// Host name of the DPS service API (the audit and the hook's configure step call it).
output serviceOperationsHostName string = dps.properties.serviceOperationsHostName
