// GET /api/hubs: each hub's device count (the hub-load timer's), its cap and drain flag (the allocation policy),
// how full it is and how old its count is.
import { app } from '@azure/functions';
import { hubsApi } from '../hub-load/http-api';

app.http('auditHubs', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'hubs',
  handler: (request, context) => hubsApi.hubs(request, context),
});
