# azd postprovision hook (Windows): the same steps as postprovision.sh.
# Points the DPS enrollment groups named in DPS_ENROLLMENT_GROUPS at the allocate webhook; the URL carries no key.
$ErrorActionPreference = 'Stop'

if ([string]::IsNullOrWhiteSpace($env:DPS_ENROLLMENT_GROUPS)) {
  Write-Host 'postprovision: no enrollment group to configure (set one with: azd env set DPS_ENROLLMENT_GROUPS group-a,group-b)'
  exit 0
}

npm run configure -- `
  --dps-host "$env:DPS_SERVICE_HOST" `
  --enrollment-groups "$env:DPS_ENROLLMENT_GROUPS" `
  --webhook-url "$env:ALLOCATE_WEBHOOK_URL" `
  --function-app "$env:SERVICE_API_NAME" `
  --resource-group "$env:AZURE_RESOURCE_GROUP" `
  --subscription "$env:AZURE_SUBSCRIPTION_ID"
exit $LASTEXITCODE
