import { http } from '../../test-support/http';
import { followJob, type JobFollower } from '../../test-support/job-follower';
import { readJobHistories } from '../../test-support/job-history';
import { startRedisServer, type RedisProcess } from '../../test-support/redis-server';
import { spawnService, testEnv, type ServiceProcess } from '../../test-support/services';
import { waitUntil, withTimeout } from '../../test-support/wait';

const JOBS = 100;
const CLIENTS_PER_JOB = 3;
const STEPS = 12;

/** kill -9 of one of two api processes while 300 clients stream from it. */
describe('chaos: an api process is killed with -9 under 300 open streams', () => {
  let redis: RedisProcess;
  const processes: ServiceProcess[] = [];
  const followers: JobFollower[] = [];

  afterAll(async () => {
    for (const follower of followers) follower.stop();
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await redis?.destroy();
  });

  it('moves every client to the other api with its last event id, and each receives every event exactly once', async () => {
    redis = await startRedisServer();
    const env = testEnv({ REDIS_URL: redis.url, WORKER_CONCURRENCY: String(JOBS / 2), SSE_RETRY_MS: '300' });
    const [doomed, survivor] = await Promise.all([spawnService('api', env), spawnService('api', env)]);
    processes.push(doomed!, survivor!);
    processes.push(...(await Promise.all([spawnService('worker', env), spawnService('worker', env)])));

    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i += 1) {
      const res = await http('POST', `${survivor!.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 6_000, steps: STEPS } });
      expect(res.status).toBe(202);
      jobIds.push(res.body.jobId);
    }
    // Every client starts on the api that will die and knows the other as its fallback.
    for (const jobId of jobIds) {
      for (let c = 0; c < CLIENTS_PER_JOB; c += 1) {
        followers.push(followJob({ bases: [doomed!.url!, survivor!.url!], path: `/api/jobs/${jobId}/events`, timeoutMs: 60_000 }));
      }
    }
    // Mid-job: every client has its first progress event, none has the outcome.
    await waitUntil(
      'every client to be mid-job on the first api',
      () => followers.every((f) => f.connections[0]?.connection.lifecycle().some((e) => e.event === 'progress')),
      20_000,
    );
    expect(followers.every((f) => f.connections.length === 1 && f.connections[0]!.base === doomed!.url)).toBe(true);

    await doomed!.stop('SIGKILL');
    await withTimeout('every client to reach the outcome', Promise.all(followers.map((f) => f.done)), 60_000);

    const histories = await readJobHistories(redis.url, env, jobIds);
    let delivered = 0;
    let replayedOnReconnect = 0;
    for (const [i, follower] of followers.entries()) {
      const jobId = jobIds[Math.floor(i / CLIENTS_PER_JOB)]!;
      const stored = histories.get(jobId)!;
      expect(stored.map((e) => e.event)).toEqual(['waiting', 'active', ...Array(STEPS).fill('progress'), 'completed']);
      // Two connections: the killed api, then the survivor, resumed from the last id of the first.
      expect(follower.connections.map((c) => c.base)).toEqual([doomed!.url, survivor!.url]);
      const [first, second] = follower.connections;
      expect(second!.lastEventId).toBe(first!.connection.lifecycle().at(-1)?.id);
      expect(second!.status).toBe(200);
      // Exactly once: the ids received over both connections are the stored history, no gap, no repeat.
      expect(follower.events.map((e) => e.id)).toEqual(stored.map((e) => e.id));
      delivered += follower.events.length;
      // Events that happened while the client was away arrive from the history replay on the survivor.
      const reconnectedAt = second!.connection.events[0]!.receivedAt;
      replayedOnReconnect += second!.connection.lifecycle().filter((e) => e.receivedAt - reconnectedAt < 50).length;
    }
    expect(delivered).toBe(JOBS * CLIENTS_PER_JOB * (STEPS + 3));
    expect(survivor!.child.exitCode).toBeNull();
    process.stdout.write(
      `chaos api-kill: ${followers.length} clients moved to the surviving api, ${delivered} events delivered exactly once ` +
        `(${replayedOnReconnect} of them replayed on reconnect), ${followers.reduce((n, f) => n + f.failedConnects, 0)} refused connects\n`,
    );
  });
});
