/**
 * `npm run test:aws`: the AWS half against real peers on loopback (moto's server, cfn-lint, checkov,
 * pandas/pyarrow/DuckDB from .venv-aws). Separate from `npm test`, which stays Node-only.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test-aws'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup.ts'],
  globalSetup: '<rootDir>/test-aws/global-setup.ts',
  globalTeardown: '<rootDir>/test-aws/global-teardown.ts',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // One moto server for all files; two workers are what CI's machine has.
  maxWorkers: 2,
  testTimeout: 120000,
};
