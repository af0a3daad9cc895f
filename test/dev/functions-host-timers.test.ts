import path from 'node:path';
import { request } from 'undici';
import { startFunctionsHost, type FunctionsHost, type FunctionsHostOptions } from '../../dev/functions-host';
import { ticks, waitForTicks } from '../fixtures/recorder';

const timerFile = path.join(__dirname, '../fixtures/functions-timers/tick.ts');

async function startHost(
  options: Partial<FunctionsHostOptions>,
): Promise<{ host: FunctionsHost; logs: string[] }> {
  const logs: string[] = [];
  const host = await startFunctionsHost({
    functionFiles: [timerFile],
    port: 0,
    functionKey: '',
    log: (line) => logs.push(line),
    ...options,
  });
  return { host, logs };
}

beforeEach(() => {
  ticks.length = 0;
});

describe('timer functions in the local host', () => {
  it('captures app.timer registrations', async () => {
    const { host } = await startHost({ enableTimers: false, env: {} });
    try {
      expect(host.functions).toEqual([
        expect.objectContaining({
          name: 'tick',
          kind: 'timer',
          schedule: '%TICK_SCHEDULE%',
          useMonitor: true,
        }),
        expect.objectContaining({
          name: 'brokenTick',
          kind: 'timer',
          schedule: '0 0 0 1 1 *',
          runOnStartup: false,
        }),
      ]);
    } finally {
      await host.stop();
    }
  });

  it('runs a timer on its schedule, with %SETTING% resolved from the app settings', async () => {
    const { host, logs } = await startHost({ env: { TICK_SCHEDULE: '* * * * * *' } });
    try {
      await waitForTicks(1);
    } finally {
      await host.stop();
    }
    const [first] = ticks;
    expect(first?.functionName).toBe('tick');
    expect(first?.timer).toMatchObject({ isPastDue: false, schedule: { adjustForDST: true } });
    // useMonitor: true → scheduleStatus: `last` is the occurrence before this run, `next` the one after it.
    const status = first?.timer.scheduleStatus;
    expect(Date.parse(status?.next ?? '') - Date.parse(status?.last ?? '')).toBe(2000);
    expect(
      logs.some((l) =>
        /\[tick\] information: Executed 'Functions\.tick' \(Succeeded.*reason=schedule/.test(l),
      ),
    ).toBe(true);
    const countAtStop = ticks.length;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(ticks.length).toBe(countAtStop); // stopped schedules stay stopped
  });

  it('runs runOnStartup timers when the host starts', async () => {
    const { host } = await startHost({
      functionFiles: [path.join(__dirname, '../fixtures/functions-timers/startup.ts')],
      env: {},
    });
    try {
      await waitForTicks(1);
      expect(ticks.map((t) => t.functionName)).toEqual(['startupTick']);
    } finally {
      await host.stop();
    }
  });

  it('runs timers on demand with invokeTimer even when schedules are disabled', async () => {
    const { host, logs } = await startHost({ enableTimers: false, env: {} });
    try {
      await host.invokeTimer('tick');
      expect(ticks).toHaveLength(1);
      expect(ticks[0]?.timer.isPastDue).toBe(false);
      await expect(host.invokeTimer('brokenTick')).rejects.toThrow('timer failed on purpose');
      expect(
        logs.some((l) => /\[brokenTick\] error: Executed .*\(Failed.*timer failed on purpose/.test(l)),
      ).toBe(true);
      await expect(host.invokeTimer('nope')).rejects.toThrow('No timer function named "nope"');
    } finally {
      await host.stop();
    }
  });

  it('runs a timer through POST /admin/functions/<name>, like the real host', async () => {
    const { host } = await startHost({ enableTimers: false, env: {} });
    try {
      const response = await request(`${host.baseUrl}/admin/functions/tick`, {
        method: 'POST',
        body: '{"input":""}',
      });
      await response.body.dump();
      expect(response.statusCode).toBe(202);
      await waitForTicks(1);
      const unknown = await request(`${host.baseUrl}/admin/functions/nope`, { method: 'POST' });
      await unknown.body.dump();
      expect(unknown.statusCode).toBe(404);
    } finally {
      await host.stop();
    }
  });

  it('refuses to start when a schedule setting is missing or a schedule is invalid', async () => {
    await expect(startHost({ env: {} })).rejects.toThrow(
      'App setting "TICK_SCHEDULE" used by timer function "tick" ("%TICK_SCHEDULE%") is not set.',
    );
    await expect(startHost({ env: { TICK_SCHEDULE: '*/5 * * * *' } })).rejects.toThrow(
      /Timer function "tick": invalid schedule "\*\/5 \* \* \* \*" \(NCRONTAB, 6 fields/,
    );
  });
});
