#!/bin/sh
# azd postprovision hook: points the DPS enrollment groups named in DPS_ENROLLMENT_GROUPS at the allocate webhook.
# azd runs it from the project root with its environment (infra/main.bicep outputs included) as variables.
# The webhook URL carries no function key: `configure` looks the key up itself, so it never shows in azd's output.
set -eu

if [ -z "${DPS_ENROLLMENT_GROUPS:-}" ]; then
  echo "postprovision: no enrollment group to configure (set one with: azd env set DPS_ENROLLMENT_GROUPS group-a,group-b)"
  exit 0
fi

npm run configure -- \
  --dps-host "${DPS_SERVICE_HOST}" \
  --enrollment-groups "${DPS_ENROLLMENT_GROUPS}" \
  --webhook-url "${ALLOCATE_WEBHOOK_URL}" \
  --function-app "${SERVICE_API_NAME}" \
  --resource-group "${AZURE_RESOURCE_GROUP}" \
  --subscription "${AZURE_SUBSCRIPTION_ID}"
