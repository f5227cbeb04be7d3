/**
 * `npm run test:browser`: the web dashboard in Debian's Chromium, driven by playwright-core
 * (test/browser). The global setup starts a redis-server; each test starts its own api process (so
 * it can be killed and restarted on the same port) and worker. One file at a time: every file runs
 * a browser and service processes, and timing assertions (reconnects) want a quiet machine.
 * Needs `npm run build` (the api serves packages/dashboard/dist) and `/usr/bin/chromium`.
 */
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/browser'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 120_000,
  maxWorkers: 1,
};
