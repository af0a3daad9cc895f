// GET /api/audit/transitions: the newest problem status transitions across every device, newest first
// (?since=24h, ?limit=50, at most 500).
import { app } from '@azure/functions';
import { auditApi } from '../audit/read/http-api';

app.http('auditTransitions', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'audit/transitions',
  handler: (request, context) => auditApi.transitions(request, context),
});
