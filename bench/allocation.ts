// The allocation webhook benchmark: in-process decision rate, HTTP latency through the local Functions host,
// and the cold import time of the function module.
import { measureHttp } from './allocation-http';
import { measureInProcess } from './allocation-inprocess';
import type { BenchModule } from './figures';
import { measureImportTime } from './import-time';

export const allocationBench: BenchModule = {
  name: 'allocation',
  description: 'allocate webhook: decisions/s in process, HTTP latency at 1,000 req/s, cold import time',
  async run(options) {
    // Import time first, on a quiet machine; the HTTP run last, since it starts a server.
    const importTime = await measureImportTime(options);
    const inProcess = measureInProcess(options);
    const http = await measureHttp(options);
    return [...inProcess, ...http, ...importTime];
  },
};
