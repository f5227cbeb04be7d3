import type { ApiServer } from '@jobstream/api';
import type { WorkerService } from '@jobstream/worker';
import type { Cluster } from 'ioredis';
import { http } from '../../test-support/http';
import { prefixInSlots, keySlot } from '../../test-support/redis-cluster';
import { connectSse } from '../../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisClient, testRedisUrl } from '../../test-support/services';

/**
 * Only on `npm run test:cluster`: the rest of the suite puts each test's queue on the first
 * master (see testEnv), so this test places one queue on every master of the cluster.
 */
describe('on a Redis Cluster', () => {
  const envs: Record<string, string>[] = [];
  const running: { api: ApiServer & { url: string }; worker: WorkerService }[] = [];
  let redis: Cluster;

  beforeAll(() => {
    redis = testRedisClient() as Cluster;
  });

  afterAll(async () => {
    await Promise.all(running.map(({ api, worker }) => Promise.all([worker.close(), api.close()])));
    for (const env of envs) await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
    redis.disconnect();
  });

  it('runs a queue on each of the three masters, each queue in one slot, every event delivered', async () => {
    // [first slot, last slot, [host, port, id] of the master, ...replicas]
    const slots = (await redis.cluster('SLOTS')).sort((a, b) => a[0] - b[0]);
    const masterPort = (i: number): number | undefined => slots[i]?.[2]?.[1];
    expect(new Set(slots.map((_, i) => masterPort(i))).size).toBe(3);

    for (const [from, to] of slots) envs.push(testEnv({ QUEUE_PREFIX: prefixInSlots([from, to]) }));
    for (const env of envs) {
      expect(env.REDIS_CLUSTER_NODES?.split(',')).toHaveLength(3);
      running.push({ api: await startApi(env), worker: await startWorker(env) });
    }

    const streams = await Promise.all(
      running.map(async ({ api }) => {
        const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 300, steps: 3 } });
        expect(res.status).toBe(202);
        return connectSse(`${api.url}/api/jobs/${res.body.jobId}/events`);
      }),
    );
    await Promise.all(streams.map((s) => s.ended));
    for (const stream of streams) {
      expect(stream.lifecycle().map((e) => e.event)).toEqual(['waiting', 'active', 'progress', 'progress', 'progress', 'completed']);
    }

    // Every key of a queue (BullMQ's and jobstream's: feed, cursor, user channel, ...) sits in the one
    // slot of its hash tag, on the master that owns that slot, and on no other master.
    const masters = redis.nodes('master');
    for (const [i, env] of envs.entries()) {
      const prefix = env.QUEUE_PREFIX as string;
      const perMaster = await Promise.all(masters.map(async (node) => (await node.keys(`${prefix}*`)).length));
      const owner = masters.findIndex((node) => node.options.port === masterPort(i));
      expect(perMaster[owner]).toBeGreaterThan(5);
      expect(perMaster.filter((n) => n > 0)).toHaveLength(1);
      const keys = await masters[owner]!.keys(`${prefix}*`);
      expect(new Set(keys.map(keySlot))).toEqual(new Set([keySlot(prefix)]));
      expect(keys.some((k) => k.endsWith(':js:feed'))).toBe(true);
    }
  });
});
