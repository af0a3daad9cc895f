// GET /api/audit/scans: the newest audit scan runs (?limit=, default 20) and where the scan stands.
import { app } from '@azure/functions';
import { auditApi } from '../audit/read/http-api';

app.http('auditScans', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'audit/scans',
  handler: (request, context) => auditApi.scans(request, context),
});
