import path from 'node:path';
import { startFunctionsHost } from '../../dev/functions-host';

// No jest.mock of '@azure/functions-core' here: the host must say how to provide it.
it('explains how to stub @azure/functions-core under jest', async () => {
  await expect(
    startFunctionsHost({
      functionFiles: [path.join(__dirname, '../fixtures/functions/ping.ts')],
      port: 0,
      env: {},
      log: () => undefined,
    }),
  ).rejects.toThrow(
    "@azure/functions-core is not available. Under jest, add to the test file:\n  jest.mock('@azure/functions-core', () => jest.requireActual('<path to>/dev/functions-host/core-stub').functionsCoreStub, { virtual: true });",
  );
});
