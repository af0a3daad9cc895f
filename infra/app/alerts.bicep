// Azure Monitor log search alerts on the one `audit-scan-run` line each audit run logs (src/audit/scan/run-log-line.ts),
// queried in the workspace's AppTraces table (docs/events-contract.md §4.1-§4.3), and the action group that e-mails
// them. Without alertEmail there is no action group: the rules still fire and show under Monitor > Alerts, telling no
// one. docs/alerts.md describes the line, the rules and how to change them.
param location string
param tags object
param actionGroupName string
@description('Prefix of the rule names: <prefix>-new-problems, -scan-failed, -no-completed-scan.')
param rulePrefix string

@description('Resource id of the Log Analytics workspace Application Insights writes to.')
param workspaceId string

@description('E-mail address the alerts go to; empty = no action group.')
param alertEmail string

@description('Hours without a completed scan before that alert fires (log search alerts look back at most two days).')
@minValue(1)
@maxValue(48)
param noCompletedScanHours int

// The run lines, parsed (docs/events-contract.md §4.2); each rule adds its summarize.
var scanRunLines = '''
AppTraces
| where Message has 'audit-scan-run'
| extend e = parse_json(Message)
| where tostring(e.event) == 'audit-scan-run'
'''

var rules = [
  {
    name: 'new-problems'
    displayName: 'New provisioning problems in the last scan'
    description: 'Audit runs in the last 5 minutes found new or reopened problem registrations (failed, unassigned, disabled, stuck assigning).'
    severity: 2
    frequency: 'PT5M'
    window: 'PT5M'
    query: '${scanRunLines}| summarize newProblems = sum(toint(e.newProblems))'
    measure: 'newProblems'
    operator: 'GreaterThan'
    threshold: 0
    autoMitigate: false
  }
  {
    name: 'scan-failed'
    displayName: 'A scan run failed'
    description: 'An audit run in the last 5 minutes failed; its line in AppTraces has the detail.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT5M'
    query: '${scanRunLines}| where tostring(e.outcome) == "failed"\n| summarize failedRuns = count()'
    measure: 'failedRuns'
    operator: 'GreaterThan'
    threshold: 0
    autoMitigate: false
  }
  {
    name: 'no-completed-scan'
    displayName: 'No completed scan in ${noCompletedScanHours} hours'
    description: 'No audit scan completed in the last ${noCompletedScanHours} hours: the timer does not run, runs fail, or a scan never ends.'
    severity: 1
    frequency: 'PT1H'
    window: 'PT${noCompletedScanHours}H'
    // Without `by`, summarize gives one row even when nothing matched: completedRuns = 0.
    query: '${scanRunLines}| where tostring(e.outcome) == "completed"\n| summarize completedRuns = count()'
    measure: 'completedRuns'
    operator: 'LessThan'
    threshold: 1
    autoMitigate: true // resolves itself once a scan completes
  }
]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'dps-alloc' // at most 12 characters, shown in e-mails
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource rule 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for r in rules: {
    name: '${rulePrefix}-${r.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    dependsOn: [actionGroup]
    properties: {
      displayName: r.displayName
      description: r.description
      severity: r.severity
      enabled: true
      scopes: [workspaceId]
      evaluationFrequency: r.frequency
      windowSize: r.window
      criteria: {
        allOf: [
          {
            query: r.query
            timeAggregation: 'Total'
            metricMeasureColumn: r.measure
            operator: r.operator
            threshold: r.threshold
          }
        ]
      }
      autoMitigate: r.autoMitigate
      actions: {
        actionGroups: empty(alertEmail) ? [] : [resourceId('Microsoft.Insights/actionGroups', actionGroupName)]
      }
    }
  }
]

output actionGroupName string = empty(alertEmail) ? '' : actionGroupName
output ruleNames array = [for r in rules: '${rulePrefix}-${r.name}']
