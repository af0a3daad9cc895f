// The child processes of the DPS benchmarks: the DPS emulator (bench/support/emulator-child.ts) and the local
// Functions host serving the compiled allocate function (bench/allocation-http-server.ts). Paths come from this
// file's own folder, so a build into any output folder runs the children of that same build.
import path from 'node:path';
import type { ServerReady } from '../allocation-http-server';
import { startBenchChild, type BenchChild } from './child-process';
import type { EmulatorReady } from './emulator-child';

/**
 * Starts the emulator on ephemeral 127.0.0.1 ports (HTTPS, MQTT and MQTT over WebSocket: never the standard 8883
 * and 443 a local stack may hold); `args` are emulator CLI flags (see dev/dps-emulator/cli.ts).
 */
export function startEmulatorChild(args: readonly string[]): Promise<BenchChild<EmulatorReady>> {
  return startBenchChild<EmulatorReady>(
    'DPS emulator',
    path.join(__dirname, 'emulator-child.js'),
    ['--port', '0', '--mqtt-port', '0', '--mqtt-ws-port', '0', ...args],
    process.env, // the child reads no DPS_EMULATOR_* variable: its flags say everything
  );
}

/**
 * Starts the local Functions host with the compiled allocate function of this build and the project's default
 * policy (policies/default.policy.json: the policy settings of this process are not passed on).
 */
export function startAllocateHostChild(functionKey: string): Promise<BenchChild<ServerReady>> {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_FUNCTION_KEY: functionKey };
  delete env.ALLOCATION_POLICY;
  delete env.ALLOCATION_POLICY_PATH;
  return startBenchChild<ServerReady>(
    'Functions host',
    path.join(__dirname, '..', 'allocation-http-server.js'),
    ['functions-host'],
    env,
  );
}
