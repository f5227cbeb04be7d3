import { setTimeout as sleep } from 'node:timers/promises';
import { http } from '../../test-support/http';
import { startRedisCluster } from '../../test-support/redis-cluster';
import { connectSse } from '../../test-support/sse-client';
import { spawnService, testEnv, type ServiceProcess } from '../../test-support/services';
import { prefixInSlots } from '../../test-support/redis-cluster';

it('cluster master restart', async () => {
  const cluster = await startRedisCluster({ appendOnly: true });
  const procs: ServiceProcess[] = [];
  try {
    const env = testEnv({ REDIS_URL: cluster.masters[0]!.url, REDIS_CLUSTER_NODES: cluster.nodes.join(','), QUEUE_PREFIX: prefixInSlots(cluster.slotRanges[1]!) });
    const api = await spawnService('api', env); procs.push(api);
    procs.push(await spawnService('worker', env));
    const a = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 3000, steps: 3 } });
    console.log('before', a.status);
    const s = await connectSse(`${api.url}/api/jobs/${a.body.jobId}/events`);
    await s.waitFor((e) => e.some((x) => x.event === 'active'));
    await cluster.masters[1]!.stop(true);
    const t = Date.now();
    const d = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } });
    console.log('during', d.status, d.body, Date.now() - t);
    await sleep(2000);
    await cluster.masters[1]!.restart();
    let after = d; const t2 = Date.now();
    for (let i = 0; i < 200 && after.status !== 202; i++) { await sleep(100); after = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } }); }
    console.log('after', after.status, Date.now() - t2);
    await Promise.race([s.ended, sleep(30000)]);
    console.log('stream', s.lifecycle().map((e) => e.event).join(','));
    const n = await connectSse(`${api.url}/api/jobs/${after.body.jobId}/events`);
    await Promise.race([n.ended, sleep(20000)]);
    console.log('next', n.lifecycle().map((e) => e.event).join(','));
    console.log(procs[0]!.output().split('\n').filter((l) => /warn|error/i.test(l)).slice(0, 10).join('\n'));
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await cluster.destroy();
  }
}, 120000);
