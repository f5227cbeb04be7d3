import { startRedisCluster } from './redis-cluster';
import { startRedisServer } from './redis-server';

/**
 * Decides which Redis the suite runs against, in this order:
 * 0. with `JOBSTREAM_TEST_CLUSTER=1` (`npm run test:cluster`), a local three-master Redis Cluster
 *    started here; its masters are in `JOBSTREAM_TEST_CLUSTER_NODES` and `testEnv()` hands them
 *    to the services as `REDIS_CLUSTER_NODES`;
 * 1. `REDIS_URL` when it is set;
 * 2. a container from testcontainers where a Docker engine answers;
 * 3. a `redis-server` started here on a free port.
 * Tests read the choice from `JOBSTREAM_TEST_REDIS_URL` and isolate themselves by key prefix.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.JOBSTREAM_TEST_CLUSTER === '1') {
    const cluster = await startRedisCluster({ masters: 3 });
    process.env.JOBSTREAM_TEST_CLUSTER_NODES = cluster.nodes.join(',');
    // Tests that read Redis through a plain client of this URL keep working because testEnv()
    // puts each test's queue in this master's slots (test/cluster/cluster-slots.test.ts covers the others).
    process.env.JOBSTREAM_TEST_REDIS_URL = cluster.masters[0]!.url;
    process.env.JOBSTREAM_TEST_CLUSTER_SLOTS = cluster.slotRanges[0]!.join('-');
    (globalThis as Record<string, unknown>).__jobstreamRedis = cluster;
    return;
  }
  if (process.env.REDIS_URL) {
    process.env.JOBSTREAM_TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  try {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('redis:7-alpine')
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .withStartupTimeout(30_000)
      .start();
    process.env.JOBSTREAM_TEST_REDIS_URL = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
    (globalThis as Record<string, unknown>).__jobstreamRedis = { destroy: () => container.stop() };
    return;
  } catch {
    // No container runtime here: fall through to a local redis-server.
  }
  const redis = await startRedisServer();
  process.env.JOBSTREAM_TEST_REDIS_URL = redis.url;
  (globalThis as Record<string, unknown>).__jobstreamRedis = redis;
}
