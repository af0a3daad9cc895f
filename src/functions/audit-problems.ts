// GET /api/audit: the audit's current problems as JSON, with filters (status, group, kind, errorCode, since,
// resolved) and continuation paging (pageSize, continuationToken; `next` is the following page's URL).
import { app } from '@azure/functions';
import { auditApi } from '../audit/read/http-api';

app.http('auditProblems', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'audit',
  handler: (request, context) => auditApi.problems(request, context),
});
