// GET /api/audit/summary: counts of the open problems by status, error code (with its explanation) and enrollment
// group, and how many were resolved in the last 24 hours.
import { app } from '@azure/functions';
import { auditApi } from '../audit/read/http-api';

app.http('auditSummary', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'audit/summary',
  handler: (request, context) => auditApi.summary(request, context),
});
