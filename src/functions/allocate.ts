// DPS custom allocation webhook: set this function's URL (with ?code=<function key>) as the
// customAllocationDefinition.webhookUrl of an enrollment.
import { app } from '@azure/functions';
import { createAllocationWebhook } from '../allocation/setup';

const answer = createAllocationWebhook();

app.http('allocate', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'allocate',
  handler: async (request, context) => {
    const { status, jsonBody, headers, log } = answer(await request.text());
    if (log.outcome === 'assigned') context.log(JSON.stringify(log));
    else context.warn(JSON.stringify(log));
    return { status, jsonBody, headers };
  },
});
