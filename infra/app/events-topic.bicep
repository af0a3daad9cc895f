// The Event Grid custom topic the lifecycle events go to (docs/events-contract.md §5): CloudEvents 1.0 input, keys
// and SAS off, so the app publishes with its identity, which gets EventGrid Data Sender on the topic.
param name string
param location string
param tags object

@description('Principal (object) id of the app\'s user-assigned identity.')
param senderPrincipalId string

// learn.microsoft.com/azure/role-based-access-control/built-in-roles/integration#eventgrid-data-sender
var eventGridDataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7'

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0' // fixed when the topic is created
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, senderPrincipalId, eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSender)
    principalId: senderPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// https://<name>.<region>-1.eventgrid.azure.net/api/events: what EVENTS_TOPIC_ENDPOINT expects.
output endpoint string = topic.properties.endpoint
