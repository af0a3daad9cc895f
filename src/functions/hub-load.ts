// Hub load: reads each HUB_LOAD_HUBS hub's registry statistics into the <AUDIT_TABLE_PREFIX>HubLoad table on
// HUB_LOAD_SCHEDULE (default every minute), for allocate's capacity-aware strategies. No hubs: it does nothing.
import { app } from '@azure/functions';
import { readSettings } from '../settings';
import { createHubLoadTimer } from '../hub-load/timer';

const hubLoad = createHubLoadTimer();

app.timer('hubLoad', {
  schedule: readSettings().HUB_LOAD_SCHEDULE,
  runOnStartup: false,
  handler: async (_timer, context) => {
    await hubLoad.run(context);
  },
});

app.hook.appTerminate(() => hubLoad.close());
