// Log Analytics workspace and workspace-based Application Insights, both with local (key) authentication off.
param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    retentionInDays: 30
    sku: {
      name: 'PerGB2018'
    }
    features: {
      disableLocalAuth: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true // ingestion only with Entra tokens (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)
  }
}

output applicationInsightsName string = applicationInsights.name
// AppTraces, where the functions' log lines land, is in this workspace (the alerts query it).
output logAnalyticsWorkspaceId string = logAnalytics.id
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
