import { Redis } from 'ioredis';
import { http } from '../../test-support/http';
import { readJobHistories } from '../../test-support/job-history';
import { startRedisServer, type RedisProcess } from '../../test-support/redis-server';
import { spawnService, testEnv, type ServiceProcess } from '../../test-support/services';
import { connectSse, type SseConnection } from '../../test-support/sse-client';
import { waitUntil, withTimeout } from '../../test-support/wait';

const JOBS = 50;
const CLIENTS_PER_JOB = 2;
const CONCURRENCY = 25; // JOBS / 2: both workers hold jobs when one of them dies

const isTerminal = (e: { event: string; data: Record<string, unknown> }) =>
  e.event === 'completed' || (e.event === 'failed' && e.data.willRetry === false);

/** kill -9 of a worker process in the middle of 50 jobs, with two clients watching each job. */
describe('chaos: a worker is killed with -9 in the middle of jobs', () => {
  let redis: RedisProcess;
  const processes: ServiceProcess[] = [];
  const streams: SseConnection[] = [];

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await redis?.destroy();
  });

  it('finishes every job, and every client sees the stall, the retry and exactly one outcome', async () => {
    redis = await startRedisServer();
    const env = testEnv({ REDIS_URL: redis.url, WORKER_CONCURRENCY: String(CONCURRENCY) });
    const api = await spawnService('api', env);
    processes.push(api);
    const workers = await Promise.all([spawnService('worker', env), spawnService('worker', env)]);
    processes.push(...workers);

    const jobIds: string[] = [];
    for (let i = 0; i < JOBS; i += 1) {
      const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 4_000, steps: 4 } });
      expect(res.status).toBe(202);
      jobIds.push(res.body.jobId);
    }
    for (const jobId of jobIds) {
      for (let c = 0; c < CLIENTS_PER_JOB; c += 1) streams.push(await connectSse(`${api.url}/api/jobs/${jobId}/events`));
    }
    await waitUntil('every job active on a worker', () => streams.every((s) => s.lifecycle().some((e) => e.event === 'active')), 20_000);

    // Which worker holds which job: BullMQ's lock value is `<worker id>:<n>`.
    const inspect = new Redis(redis.url);
    const owners = new Map<string, string[]>();
    for (const jobId of jobIds) {
      const token = await inspect.get(`${env.QUEUE_PREFIX}:jobs:${jobId}:lock`);
      const owner = token?.split(':')[0] ?? 'none';
      owners.set(owner, [...(owners.get(owner) ?? []), jobId]);
    }
    inspect.disconnect();
    expect([...owners.keys()].filter((o) => o !== 'none')).toHaveLength(2);

    await workers[0]!.stop('SIGKILL');
    await withTimeout('every stream to end', Promise.all(streams.map((s) => s.ended)), 60_000);

    const histories = await readJobHistories(redis.url, env, jobIds);
    const stalledJobs = new Set(jobIds.filter((id) => histories.get(id)!.some((e) => e.event === 'stalled')));
    // Exactly the jobs the killed worker held stalled and ran again; the survivor's jobs did not.
    const killedGroup = [...owners.values()].find((ids) => ids.every((id) => stalledJobs.has(id)) && ids.length === stalledJobs.size);
    expect(killedGroup).toBeDefined();
    expect(stalledJobs.size).toBeGreaterThan(0);

    let terminalEvents = 0;
    let stallsSeen = 0;
    for (const [i, stream] of streams.entries()) {
      const jobId = jobIds[Math.floor(i / CLIENTS_PER_JOB)]!;
      const received = stream.lifecycle();
      const stored = histories.get(jobId)!;
      // Every event of the job, each once, in order: the same ids as the history read afterwards.
      expect(received.map((e) => e.id)).toEqual(stored.map((e) => e.id));
      expect(received.filter(isTerminal)).toHaveLength(1);
      expect(received.at(-1)?.event).toBe('completed');
      terminalEvents += 1;
      const names = received.map((e) => e.event);
      if (stalledJobs.has(jobId)) {
        expect(names.filter((n) => n === 'stalled')).toHaveLength(1);
        expect(names.filter((n) => n === 'active')).toHaveLength(2);
        expect(names.indexOf('stalled')).toBeLessThan(names.lastIndexOf('active'));
        stallsSeen += 1;
      } else {
        expect(names).not.toContain('stalled');
      }
    }
    expect(terminalEvents).toBe(JOBS * CLIENTS_PER_JOB);
    expect(stallsSeen).toBe(stalledJobs.size * CLIENTS_PER_JOB);
    const stats = await http('GET', `${api.url}/api/queue/stats`);
    expect(stats.body.counts).toMatchObject({ completed: JOBS, failed: 0, active: 0, waiting: 0 });
    process.stdout.write(
      `chaos worker-kill: ${JOBS} jobs, ${streams.length} clients, ${stalledJobs.size} jobs stalled and recovered, ` +
        `${terminalEvents} terminal events (one per client)\n`,
    );
  });
});
