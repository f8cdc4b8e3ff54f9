/** Jest in ESM mode (middy 7 is ESM only); ts-jest transpiles, `tsc --noEmit` type-checks separately. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testTimeout: 60000,
  // One worker per core, not jest's cores - 1: most suites wait on loopback HTTP and child processes, so on
  // a 2-core machine two workers halve the wall time (CI: about 8 minutes instead of 13.5).
  maxWorkers: '100%',
};
