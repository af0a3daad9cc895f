// GET /api/audit/history/{registrationId}: one device's problem status transitions, oldest first (?group=).
import { app } from '@azure/functions';
import { auditApi } from '../audit/read/http-api';

app.http('auditHistory', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'audit/history/{registrationId}',
  handler: (request, context) => auditApi.history(request, context),
});
