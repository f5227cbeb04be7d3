import type { ApiServer } from '@jobstream/api';
import type { LifecycleEvent } from '@jobstream/contracts';
import { jobstreamKeys } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { readJobHistories } from '../test-support/job-history';
import { cleanupPrefix, spawnService, startApi, startWorker, testEnv, testRedisUrl, type ServiceProcess } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

type Api = ApiServer & { url: string };

const keysOf = (env: Record<string, string>) => jobstreamKeys({ prefix: env.QUEUE_PREFIX as string, name: 'jobs' });
const historiesOf = (env: Record<string, string>, jobIds: string[]) => readJobHistories(testRedisUrl(), { QUEUE_PREFIX: env.QUEUE_PREFIX as string }, jobIds);
const timeOf = (event: LifecycleEvent) => Number(event.id.split('-')[0]);

async function submit(api: Api, user: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload, ...extra }, await authHeaders(user));
}

async function accepted(api: Api, user: string, payload: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await submit(api, user, payload, extra);
  expect(res.status).toBe(202);
  return res.body.jobId as string;
}

async function stateOf(api: Api, user: string, jobId: string): Promise<string> {
  return (await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, await authHeaders(user))).body.state as string;
}

/** The most intervals that overlap at one instant. */
function maxOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([start, end]) => [[start, 1] as const, [end, -1] as const]);
  // At equal times an end comes first: [a, t] and [t, b] do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (open += step));
  return most;
}

describe('per-user cap on running jobs (MAX_ACTIVE_JOBS_PER_USER)', () => {
  let env: Record<string, string>;
  let api: Api;
  let workers: WorkerService[] = [];
  let redis: Redis;

  beforeEach(async () => {
    env = testEnv({ MAX_ACTIVE_JOBS_PER_USER: '2', WORKER_CONCURRENCY: '2' });
    api = await startApi(env);
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await api.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('runs another user\'s job while one user is at the cap, never more of that user\'s jobs at once than the cap on any worker, and each held job once', async () => {
    // Two workers of two: without the cap, alice's six jobs would take all four places and bob's would wait behind them.
    workers = [await startWorker(env), await startWorker(env)];
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    const aliceJobs: string[] = [];
    for (let i = 0; i < 6; i += 1) aliceJobs.push(await accepted(api, alice, { durationMs: 1_200, steps: 3 }));
    await waitUntil('two of alice\'s jobs running', async () => {
      const histories = await historiesOf(env, aliceJobs);
      return [...histories.values()].filter((events) => events.some((e) => e.event === 'progress')).length >= 2;
    });
    const bobJob = await accepted(api, bob, { durationMs: 0 });
    await waitUntil('every job completed', async () => {
      for (const [user, jobId] of [...aliceJobs.map((id) => [alice, id] as const), [bob, bobJob] as const]) {
        if ((await stateOf(api, user, jobId)) !== 'completed') return false;
      }
      return true;
    }, 30_000, 100);

    const histories = await historiesOf(env, [...aliceJobs, bobJob]);
    const completedAt = (jobId: string) => timeOf(histories.get(jobId)!.find((e) => e.event === 'completed')!);
    expect(completedAt(bobJob)).toBeLessThan(Math.min(...aliceJobs.map(completedAt)));

    const runs: [number, number][] = [];
    let held = 0;
    for (const jobId of aliceJobs) {
      const events = histories.get(jobId)!;
      // One run: its three progress reports, then one completed; held attempts show active, delayed, waiting.
      const progress = events.filter((e) => e.event === 'progress');
      expect(progress.map((e) => (e.data as { progress: number }).progress)).toEqual([33, 67, 100]);
      const names = events.filter((e) => e.event !== 'progress').map((e) => e.event).join(' ');
      expect(names).toMatch(/^waiting( active delayed waiting)* active completed$/);
      for (const delayed of events.filter((e) => e.event === 'delayed')) {
        const until = Date.parse((delayed.data as { delayedUntil: string }).delayedUntil);
        expect(until - timeOf(delayed)).toBeGreaterThan(0);
        expect(until - timeOf(delayed)).toBeLessThanOrEqual(10_000);
        held += 1;
      }
      runs.push([timeOf(progress[0]!), timeOf(progress.at(-1)!)]);
    }
    expect(held).toBeGreaterThan(0);
    expect(maxOverlap(runs)).toBe(2);
    expect(await redis.exists(keysOf(env).activeJobSlots(alice))).toBe(0);
  });
});

describe('the heartbeat of a worker that holds jobs back', () => {
  let env: Record<string, string>;
  let api: Api;
  let worker: WorkerService | undefined;
  let redis: Redis;

  beforeEach(async () => {
    env = testEnv({ MAX_ACTIVE_JOBS_PER_USER: '1', WORKER_CONCURRENCY: '2', WORKER_HEARTBEAT_MS: '100' });
    api = await startApi(env);
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  });

  afterEach(async () => {
    await worker?.close();
    await api.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('lists only the job it runs, not the ones it held back, so a held job never looks stalled', async () => {
    worker = await startWorker(env);
    const alice = `alice-${randomUUID()}`;
    const running = await accepted(api, alice, { durationMs: 5_000, steps: 5 });
    await waitUntil('the first job running', async () => (await historiesOf(env, [running])).get(running)!.some((e) => e.event === 'progress'));
    const held = await accepted(api, alice, { durationMs: 0 });
    await waitUntil('the second job held back', async () => (await historiesOf(env, [held])).get(held)!.some((e) => e.event === 'delayed'), 10_000, 10);
    // Taken and put back, the held job must leave the worker's list of active jobs: listed there with no
    // progress, it would raise workerStalled after ALERT_WORKER_STALL_MS.
    await waitUntil('the heartbeat to list the running job alone', async () => {
      const entries = Object.values(await redis.hgetall(keysOf(env).workers)).map((raw) => JSON.parse(raw) as { activeJobs: { jobId: string }[] });
      const listed = entries.flatMap((entry) => entry.activeJobs.map((job) => job.jobId));
      return listed.length === 1 && listed[0] === running;
    }, 5_000, 20);
    expect(await stateOf(api, alice, held)).not.toBe('completed');
  });
});

describe('a dead worker\'s active slots', () => {
  let env: Record<string, string>;
  let api: Api;
  let spawned: ServiceProcess | undefined;
  let worker: WorkerService | undefined;

  beforeEach(async () => {
    env = testEnv({ MAX_ACTIVE_JOBS_PER_USER: '1', MAX_QUEUED_JOBS_PER_USER: '2' });
    api = await startApi(env);
  });

  afterEach(async () => {
    await spawned?.stop('SIGKILL');
    await worker?.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('come back after the lease, so the user\'s held job runs, and the job that died with it takes no place', async () => {
    const alice = `alice-${randomUUID()}`;
    spawned = await spawnService('worker', env);
    const first = await accepted(api, alice, { durationMs: 20_000, steps: 20 });
    await waitUntil('the first job running', async () => (await historiesOf(env, [first])).get(first)!.some((e) => e.event === 'progress'));
    const second = await accepted(api, alice, { durationMs: 0 });
    await waitUntil('the second job held back', async () => (await stateOf(api, alice, second)) === 'delayed', 10_000, 10);
    await spawned.stop('SIGKILL');
    // The first job fails at its first stall here, so nobody ever gives its slot back: only the lease can.
    worker = await startWorker({ ...env, WORKER_MAX_STALLED_COUNT: '0' });
    await waitUntil('the held job completed', async () => (await stateOf(api, alice, second)) === 'completed', 20_000, 50);
    await waitUntil('the dead worker\'s job failed as stalled', async () => (await stateOf(api, alice, first)) === 'failed', 20_000, 50);
    // Both places are free again: the second job's worker gave its place back, and the first job, which
    // no worker saw end, is dropped once alice reaches the cap. No worker now: the new jobs stay unfinished.
    await worker.close();
    worker = undefined;
    expect((await submit(api, alice, { durationMs: 0 })).status).toBe(202);
    expect((await submit(api, alice, { durationMs: 0 })).status).toBe(202);
  });
});

describe('per-user cap on jobs not finished yet (MAX_QUEUED_JOBS_PER_USER)', () => {
  let env: Record<string, string>;
  let replicas: Api[] = [];
  let worker: WorkerService | undefined;

  beforeEach(async () => {
    env = testEnv({ MAX_QUEUED_JOBS_PER_USER: '3', RATE_LIMIT_ENQUEUE_POINTS: '50' });
    replicas = [await startApi(env), await startApi(env)];
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await Promise.all(replicas.map((api) => api.close()));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('refuses a user at the cap with 429 JOB_QUOTA_EXCEEDED and Retry-After, free of a rate-limit point; other users and replays pass; a finished job frees a place', async () => {
    const [one, two] = replicas as [Api, Api];
    const carol = `carol-${randomUUID()}`;
    const dave = `dave-${randomUUID()}`;
    const jobs = [await accepted(one, carol, { durationMs: 0 }), await accepted(two, carol, { durationMs: 0 })];
    const keyed = await submit(one, carol, { durationMs: 0 }, { idempotencyKey: 'report-1' });
    expect(keyed.status).toBe(202);
    jobs.push(keyed.body.jobId as string);

    const refused = await submit(two, carol, { durationMs: 0 });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ code: 'JOB_QUOTA_EXCEEDED', error: expect.stringMatching(/3 jobs that have not finished yet/) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The refusal gave its rate-limit point back: 3 of 50 taken, as before it.
    expect(keyed.headers.get('ratelimit-remaining')).toBe('47');
    expect(refused.headers.get('ratelimit-remaining')).toBe('47');
    const flashcards = await http('POST', `${one.url}/api/ai/generate-flashcards`, { content: 'Leaves are green.', subject: 'Biology', topic: 'Plants' }, await authHeaders(carol));
    expect(flashcards.status).toBe(429);
    expect(flashcards.body.code).toBe('JOB_QUOTA_EXCEEDED');

    const replay = await submit(two, carol, { durationMs: 0 }, { idempotencyKey: 'report-1' });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await submit(one, dave, { durationMs: 0 })).status).toBe(202);
    expect((await submit(one, carol, { durationMs: 0 })).status).toBe(429);

    worker = await startWorker(env);
    await waitUntil('carol\'s first job completed', async () => (await stateOf(one, carol, jobs[0]!)) === 'completed');
    expect((await submit(two, carol, { durationMs: 0 })).status).toBe(202);
  });

  it('lets exactly one of concurrent submissions at one below the cap through, across replicas', async () => {
    const erin = `erin-${randomUUID()}`;
    await accepted(replicas[0]!, erin, { durationMs: 0 });
    await accepted(replicas[1]!, erin, { durationMs: 0 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => submit(replicas[i % 2]!, erin, { durationMs: 0 })));
    expect(results.map((r) => r.status).sort()).toEqual([202, 429, 429, 429, 429, 429, 429, 429]);
  });

  it('gives the place of a job removed by other means back once the user reaches the cap', async () => {
    const frank = `frank-${randomUUID()}`;
    const jobs = [];
    for (let i = 0; i < 3; i += 1) jobs.push(await accepted(replicas[0]!, frank, { durationMs: 0 }));
    expect((await submit(replicas[0]!, frank, { durationMs: 0 })).status).toBe(429);
    const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue('jobs', { connection, prefix: env.QUEUE_PREFIX as string });
    try {
      expect(await queue.remove(jobs[1]!)).toBe(1);
    } finally {
      await queue.close();
      connection.disconnect();
    }
    // A counted job without a hash may be one being added right now: it is dropped after a short grace.
    await waitUntil('a submission accepted again', async () => (await submit(replicas[0]!, frank, { durationMs: 0 })).status === 202, 10_000, 250);
    expect((await submit(replicas[1]!, frank, { durationMs: 0 })).status).toBe(429);
  });
});

describe('per-user cap on stored bytes (MAX_STORED_BYTES_PER_USER)', () => {
  let env: Record<string, string>;
  let api: Api;
  let worker: WorkerService | undefined;

  beforeEach(async () => {
    // Results up to 100 kB travel in events, so a completed job keeps its result three times (job hash, history, channel).
    env = testEnv({ MAX_STORED_BYTES_PER_USER: '200000', BODY_LIMIT_BYTES: '100000', EVENT_RESULT_INLINE_MAX_BYTES: '100000' });
    api = await startApi(env);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('refuses a user whose payloads fill it with 429 STORAGE_QUOTA_EXCEEDED, Retry-After when the oldest expire, and leaves other users be', async () => {
    const grace = `grace-${randomUUID()}`;
    const heidi = `heidi-${randomUUID()}`;
    const big = { durationMs: 0, result: 'x'.repeat(80_000) };
    expect((await submit(api, grace, big)).status).toBe(202);
    expect((await submit(api, grace, big)).status).toBe(202);
    const refused = await submit(api, grace, big);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('STORAGE_QUOTA_EXCEEDED');
    expect(refused.body.error).toMatch(/one user may keep 200000; the oldest are forgotten in \d+ s: submit smaller payloads, or try again then/);
    // The oldest bucket goes one retention (24 h) plus one bucket (1 h) after it started.
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(86_400);
    expect(retryAfter).toBeLessThanOrEqual(90_000);
    // A small job still fits under the cap; the big one does not.
    expect((await submit(api, grace, { durationMs: 0 })).status).toBe(202);
    expect((await submit(api, heidi, big)).status).toBe(202);
  });

  it('counts the results the worker stores, not only the payloads', async () => {
    const ivan = `ivan-${randomUUID()}`;
    const judy = `judy-${randomUUID()}`;
    worker = await startWorker(env);
    // Echoed as the result: charged 40 kB at submission, three times that when it completes.
    const withResult = { durationMs: 0, result: 'y'.repeat(40_000) };
    const first = await accepted(api, ivan, withResult);
    await accepted(api, judy, { durationMs: 0 });
    await waitUntil('the job completed', async () => (await stateOf(api, ivan, first)) === 'completed');
    const refused = await submit(api, ivan, withResult);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('STORAGE_QUOTA_EXCEEDED');
    // Another user with the same payload but no stored result yet passes.
    expect((await submit(api, judy, withResult)).status).toBe(202);
  });

  it('charges a result too large for events once: it is kept in the job hash only', async () => {
    const kim = `kim-${randomUUID()}`;
    const small = testEnv({ MAX_STORED_BYTES_PER_USER: '200000', BODY_LIMIT_BYTES: '100000', EVENT_RESULT_INLINE_MAX_BYTES: '16384' });
    const smallApi = await startApi(small);
    const smallWorker = await startWorker(small);
    try {
      const withResult = { durationMs: 0, result: 'z'.repeat(40_000) };
      const first = await accepted(smallApi, kim, withResult);
      await waitUntil('the job completed', async () => (await stateOf(smallApi, kim, first)) === 'completed');
      // 40 kB payload + the job's keys + the 40 kB result once: room for another; three copies would leave none.
      expect((await submit(smallApi, kim, withResult)).status).toBe(202);
    } finally {
      await smallWorker.close();
      await smallApi.close();
      await cleanupPrefix(testRedisUrl(), small.QUEUE_PREFIX);
    }
  });
});
