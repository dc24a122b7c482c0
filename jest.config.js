// Jest runs the TypeScript sources as ESM (the package is "type": "module" and
// @actions/core 3 is ESM-only). ts-jest only transpiles here; `npm run typecheck`
// does the type checking once for the whole tree, which is much faster.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        useESM: true,
        diagnostics: false,
        tsconfig: { module: 'ESNext', moduleResolution: 'Bundler', target: 'ES2023', isolatedModules: true },
      },
    ],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/setup/global-setup.js',
  globalTeardown: '<rootDir>/test/setup/global-teardown.js',
  testTimeout: 120000,
  // Two cores in CI: every test file gets its own database on the one shared server.
  maxWorkers: process.env.CI ? 2 : '50%',
};
