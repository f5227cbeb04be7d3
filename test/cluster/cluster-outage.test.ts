import { setTimeout as sleep } from 'node:timers/promises';
import { http } from '../../test-support/http';
import { prefixInSlots, startRedisCluster, type RedisClusterProcess } from '../../test-support/redis-cluster';
import { spawnService, testEnv, type ServiceProcess } from '../../test-support/services';
import { connectSse } from '../../test-support/sse-client';
import { withTimeout } from '../../test-support/wait';

/**
 * The cluster counterpart of redis-outage.test.ts, only on `npm run test:cluster`: the master
 * holding the queue's slot restarts (AOF on) under a running api and worker. It starts a cluster
 * of its own, so that the shared one stays up for the other tests.
 */
describe('when the master of the queue restarts in a Redis Cluster', () => {
  let cluster: RedisClusterProcess;
  const processes: ServiceProcess[] = [];

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await cluster?.destroy();
  });

  it('answers 503 (never 500) while it is away, and recovers with no event lost', async () => {
    cluster = await startRedisCluster({ appendOnly: true });
    // The queue lives on the second master; the first stays up throughout.
    const env = testEnv({
      REDIS_URL: cluster.masters[0]!.url,
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      QUEUE_PREFIX: prefixInSlots(cluster.slotRanges[1]!),
    });
    const api = await spawnService('api', env);
    processes.push(api, await spawnService('worker', env));
    const enqueue = (durationMs: number, steps = 0) =>
      http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs, steps } });

    const running = await enqueue(3_000, 3);
    expect(running.status).toBe(202);
    const stream = await connectSse(`${api.url}/api/jobs/${running.body.jobId}/events`);
    await stream.waitFor((events) => events.some((e) => e.event === 'active'));

    await cluster.masters[1]!.stop(true);
    const during: number[] = [];
    const codes = new Set<string>();
    const downUntil = Date.now() + 2_000;
    while (Date.now() < downUntil) {
      const res = await enqueue(10);
      during.push(res.status);
      codes.add(res.body?.code);
      await sleep(50);
    }
    expect(new Set(during)).toEqual(new Set([503]));
    expect([...codes]).toEqual(['REDIS_UNAVAILABLE']);

    await cluster.masters[1]!.restart();
    const after: number[] = [];
    let accepted: { status: number; body: any } | undefined;
    for (let i = 0; i < 200 && !accepted; i += 1) {
      const res = await enqueue(10);
      after.push(res.status);
      if (res.status === 202) accepted = res;
      else await sleep(100);
    }
    // While the cluster settles a request may still find the slot away: 503 then, never 500.
    expect(after.every((status) => status === 202 || status === 503)).toBe(true);
    expect(accepted).toBeDefined();

    await withTimeout('the running job to finish on its stream', stream.ended, 30_000);
    const ids = stream.lifecycle().map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(stream.lifecycle().filter((e) => e.event === 'progress')).toHaveLength(3);
    expect(stream.lifecycle().at(-1)?.event).toBe('completed');
    const next = await connectSse(`${api.url}/api/jobs/${accepted!.body.jobId}/events`);
    await withTimeout('the job accepted after the restart to finish', next.ended, 20_000);
    expect(next.lifecycle().map((e) => e.event)).toEqual(['waiting', 'active', 'completed']);
    expect(processes.every((p) => p.child.exitCode === null)).toBe(true);
  });
});
