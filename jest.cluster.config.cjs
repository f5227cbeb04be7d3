/**
 * `npm run test:cluster`: the integration tests once more, against a local three-master Redis
 * Cluster that global-setup starts (JOBSTREAM_TEST_CLUSTER=1); the services get it as
 * REDIS_CLUSTER_NODES through testEnv().
 */
const base = require('./jest.config.cjs');

module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testPathIgnorePatterns: [
    // Everything the default run ignores except test/cluster, which only this run can pass.
    ...base.testPathIgnorePatterns.filter((pattern) => pattern !== '<rootDir>/test/cluster/'),
    // Starts and kills its own standalone redis-server: nothing in it is about the cluster.
    '<rootDir>/test/redis-outage.test.ts',
    // Its own standalone TLS redis-server; test/cluster/redis-auth-tls.test.ts is its cluster counterpart.
    '<rootDir>/test/redis-auth-tls.test.ts',
  ],
};
