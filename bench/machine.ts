// The machine a benchmark ran on, printed above the figures so that they can be compared fairly.
import os from 'node:os';

export function machineInfo(): string[] {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((cpu) => cpu.model.trim()))].join(', ') || 'unknown CPU';
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return [
    `node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.release()} ${os.arch()}`,
    `CPU: ${models}, ${os.availableParallelism()} core(s) available, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `load average at start (1/5/15 min): ${load}`,
  ];
}
