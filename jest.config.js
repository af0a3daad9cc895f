/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // The Functions worker provides '@azure/functions-core' at runtime; under jest it is the local host's stub
  // (dev/functions-host/README.md), in the test file's own module registry.
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/dev/functions-host/core-module.ts' },
  // Networked tests start servers on 127.0.0.1; every test file must stop what it starts.
  testTimeout: 30000,
};
