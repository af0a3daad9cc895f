// GET /api/audit/findings: enrollment configuration findings (?kind=group|individual, ?onlyWithFindings=true).
import { app } from '@azure/functions';
import { auditApi } from '../audit/read/http-api';

app.http('auditFindings', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'audit/findings',
  handler: (request, context) => auditApi.findings(request, context),
});
