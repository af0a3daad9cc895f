// GET /api/decisions/summary: allocate's decisions since a time (default 1h, at most 7 days) counted per outcome
// and per hub: how recent allocations spread over the hubs.
import { app } from '@azure/functions';
import { decisionsApi } from '../decisions/http-api';

app.http('decisionsSummary', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'decisions/summary',
  handler: (request, context) => decisionsApi.summary(request, context),
});
