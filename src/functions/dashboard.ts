// GET /api/dashboard: a self-contained page of the audit and the allocation decisions, drawn from this app's JSON
// endpoints and refreshed in place (?code=<function key>, ?refresh=<seconds>, default 30, at least 5).
import { app } from '@azure/functions';
import { dashboardResponse } from '../dashboard/http';

app.http('dashboard', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'dashboard',
  handler: (request) => dashboardResponse(request),
});
