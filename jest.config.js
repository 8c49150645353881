/** Type checking is done once by `tsc` in `npm test`; ts-jest only transpiles (isolatedModules in tsconfig). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60000,
  // Jest's default is one worker fewer than the cores: on CI's two cores that ran every file in one process.
  maxWorkers: 2,
};
