// GET /api/decisions: allocate's recorded decisions, oldest first, with filters (since, until, outcome, hub) and
// continuation paging (limit, continuationToken; `next` is the following page's URL).
import { app } from '@azure/functions';
import { decisionsApi } from '../decisions/http-api';

app.http('decisions', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'decisions',
  handler: (request, context) => decisionsApi.list(request, context),
});
