// The project's function files served by the local host on an ephemeral port, quietly and without timers.
import path from 'node:path';
import { startFunctionsHost, type FunctionsHost } from '../../dev/functions-host';

/** Serves src/functions/<name>.ts for each name; `functionKey` '' serves without key checks. */
export function serveFunctions(names: readonly string[], functionKey: string): Promise<FunctionsHost> {
  return startFunctionsHost({
    functionFiles: names.map((name) => path.join(__dirname, `../../src/functions/${name}.ts`)),
    port: 0,
    functionKey,
    enableTimers: false,
    env: {},
    log: () => undefined,
  });
}
