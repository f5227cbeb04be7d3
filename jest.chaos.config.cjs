/**
 * `npm run test:chaos`: fault injection under load (test/chaos). Each case starts its own
 * redis-server and service processes, so there is no shared Redis to set up, and the cases run
 * one at a time: they measure latency and count events, which parallel cases would disturb.
 * Needs `npm run build` (the services run as processes from dist/).
 */
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/chaos'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: undefined,
  globalTeardown: undefined,
  testTimeout: 120_000,
  maxWorkers: 1,
};
