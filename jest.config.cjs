/** One jest run for the whole repository; TypeScript sources are used directly (no build needed for in-process tests). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The chaos suite is its own, slower run: npm run test:chaos (jest.chaos.config.cjs).
  // test/chaos and test/cluster have runs of their own (npm run test:chaos, npm run test:cluster).
  // test/browser (Chromium, npm run test:browser) and test/deploy (nginx, promtool, kubectl:
  // npm run test:deploy) too, so this run needs nothing but Node and Redis.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/chaos/', '<rootDir>/test/cluster/', '<rootDir>/test/browser/', '<rootDir>/test/deploy/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
    // jose 6 and eventsource 5 (with eventsource-parser) ship only ES modules: Node requires them
    // natively, jest's module loader does not, so their files are compiled to CommonJS like ours.
    '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'CommonJS', target: 'ES2022', isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|eventsource|eventsource-parser)/)'],
  moduleNameMapper: {
    '^@jobstream/(contracts|runtime|client)$': '<rootDir>/packages/$1/src/index.ts',
    '^@jobstream/(api|worker|metrics)$': '<rootDir>/services/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test-support/global-setup.ts',
  globalTeardown: '<rootDir>/test-support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
