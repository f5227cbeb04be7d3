import { setTimeout as sleep } from 'node:timers/promises';
import { http } from '../../test-support/http';
import { followJob, type JobFollower } from '../../test-support/job-follower';
import { readJobHistories } from '../../test-support/job-history';
import { startRedisServer, type RedisProcess } from '../../test-support/redis-server';
import { spawnService, testEnv, type ServiceProcess } from '../../test-support/services';
import { waitUntil, withTimeout } from '../../test-support/wait';

const PRODUCERS = 4;

interface Submission {
  status: number;
  code?: string;
  jobId?: string;
  phase: 'before' | 'down' | 'after';
}

/** Redis (AOF, fsync always) is killed and started again while jobs are submitted and watched. */
describe('chaos: Redis restarts under load', () => {
  let redis: RedisProcess;
  const processes: ServiceProcess[] = [];
  const followers: JobFollower[] = [];

  afterAll(async () => {
    for (const follower of followers) follower.stop();
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await redis?.destroy();
  });

  it('recovers without a service restart, loses no accepted job, and answers 503 (never 500) while Redis is away', async () => {
    redis = await startRedisServer({ appendOnly: true });
    const env = testEnv({ REDIS_URL: redis.url, WORKER_CONCURRENCY: '20', SSE_RETRY_MS: '200' });
    const api = await spawnService('api', env);
    const workers = await Promise.all([spawnService('worker', env), spawnService('worker', env)]);
    processes.push(api, ...workers);
    const pids = processes.map((p) => p.child.pid);

    const submissions: Submission[] = [];
    let phase: Submission['phase'] = 'before';
    let producing = true;
    const produce = async (): Promise<void> => {
      while (producing) {
        const at = phase;
        const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 300, steps: 2 } });
        submissions.push({ status: res.status, code: res.body?.code, jobId: res.body?.jobId, phase: at });
        if (res.status === 202) {
          followers.push(followJob({ bases: [api.url!], path: `/api/jobs/${res.body.jobId}/events`, timeoutMs: 90_000 }));
        }
        await sleep(20);
      }
    };
    const producers = Array.from({ length: PRODUCERS }, () => produce());

    await sleep(2_000);
    phase = 'down';
    await redis.stop(true);
    await sleep(2_500);
    await redis.restart();
    phase = 'after';
    await waitUntil('an enqueue to be accepted again', () => submissions.some((s) => s.phase === 'after' && s.status === 202), 30_000);
    await sleep(2_000);
    producing = false;
    await withTimeout('the producers to stop', Promise.all(producers), 10_000);

    const byStatus = new Map<number, number>();
    for (const s of submissions) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
    expect([...byStatus.keys()].sort()).toEqual([202, 503]);
    const refused = submissions.filter((s) => s.status === 503);
    expect(refused.every((s) => s.code === 'REDIS_UNAVAILABLE')).toBe(true);
    expect(refused.some((s) => s.phase === 'down')).toBe(true);
    const accepted = submissions.filter((s) => s.status === 202).map((s) => s.jobId as string);
    expect(submissions.filter((s) => s.phase === 'before' && s.status === 202).length).toBeGreaterThan(10);

    // Every accepted job reaches completed, and its watcher got each of its events once.
    await withTimeout('every watcher to see the outcome', Promise.all(followers.map((f) => f.done)), 90_000);
    const histories = await readJobHistories(redis.url, env, accepted);
    for (const [i, jobId] of accepted.entries()) {
      const stored = histories.get(jobId)!;
      expect(stored.filter((e) => e.event === 'completed')).toHaveLength(1);
      expect(stored.at(-1)?.event).toBe('completed');
      expect(followers[i]!.events.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    }
    const snapshots = await Promise.all(accepted.map((id) => http('GET', `${api.url}/api/jobs/${id}`)));
    expect(snapshots.filter((s) => s.body.state === 'completed')).toHaveLength(accepted.length);

    expect((await http('GET', `${api.url}/readyz`)).status).toBe(200);
    expect(processes.map((p) => p.child.pid)).toEqual(pids);
    expect(processes.every((p) => p.child.exitCode === null && p.child.signalCode === null)).toBe(true);
    const stats = await http('GET', `${api.url}/api/queue/stats`);
    const stalled = [...histories.values()].filter((events) => events.some((e) => e.event === 'stalled')).length;
    process.stdout.write(
      `chaos redis-restart: ${submissions.length} enqueues: ${accepted.length} accepted (all completed, ` +
        `${stats.body.counts.completed} completed in the queue), ${refused.length} refused with 503 ` +
        `(${refused.filter((s) => s.phase === 'down').length} while Redis was down), 0 with 500; ` +
        `${stalled} jobs stalled and ran again; ${followers.length} watchers got every event once\n`,
    );
  });
});
