// Roles on EXISTING IoT hubs; main.bicep deploys this into the hubs' resource group. The hub-load timer reads each
// hub's registry statistics (GET /statistics/devices) with the app's identity.
@description('Names of the IoT hubs (not host names) whose device counts the hub-load timer reads.')
param hubNames array

@description('Principal (object) id of the app\'s user-assigned identity.')
param appPrincipalId string

// Built-in "IoT Hub Data Reader" (data action Microsoft.Devices/IotHubs/*/read, registry statistics included). Source:
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/internet-of-things#iot-hub-data-reader
var iotHubDataReader = 'b447c946-2db7-41ec-983d-d8bf3b1c77e3'

resource hubs 'Microsoft.Devices/IotHubs@2023-06-30' existing = [
  for name in hubNames: {
    name: name
  }
]

resource appReadsHubs 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in hubNames: {
    name: guid(hubs[i].id, appPrincipalId, iotHubDataReader)
    scope: hubs[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', iotHubDataReader)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

