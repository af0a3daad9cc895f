// DPS custom allocation webhook: set this function's URL (with ?code=<function key>) as the
// customAllocationDefinition.webhookUrl of an enrollment. Each decision is also recorded in the decision table.
import { app } from '@azure/functions';
import { createAllocateHandler } from '../decisions/allocate-handler';

const allocate = createAllocateHandler();

app.http('allocate', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'allocate',
  handler: async (request, context) => allocate.answer(await request.text(), context),
});

// Rows still queued when the worker stops are written if storage allows (bounded).
app.hook.appTerminate(() => allocate.close());
