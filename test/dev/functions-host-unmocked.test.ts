import path from 'node:path';
import { startFunctionsHost } from '../../dev/functions-host';

// Undoes jest.config.js's mapping for this file only: '@azure/functions-core' is missing, as in a process
// without the Functions worker, and the host must say how to provide it.
jest.mock(
  '@azure/functions-core',
  () => {
    throw Object.assign(new Error("Cannot find module '@azure/functions-core'"), {
      code: 'MODULE_NOT_FOUND',
    });
  },
  { virtual: true },
);

it('explains how to stub @azure/functions-core under jest', async () => {
  await expect(
    startFunctionsHost({
      functionFiles: [path.join(__dirname, '../fixtures/functions/ping.ts')],
      port: 0,
      env: {},
      log: () => undefined,
    }),
  ).rejects.toThrow(
    "@azure/functions-core is not available. Under jest, add to jest.config.js:\n  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/dev/functions-host/core-module.ts' }",
  );
});
