// GET /api/trends?days=30: the daily roll-up of problems opened and resolved and of allocations, per UTC day
// (1 to 90 days), which the audit timer keeps current after each scan run.
import { app } from '@azure/functions';
import { trendsApi } from '../trends/http-api';

app.http('trends', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'trends',
  handler: (request, context) => trendsApi.get(request, context),
});
