import type { ApiServer } from '@jobstream/api';
import { budgetChargesResponseSchema, feedProgressResponseSchema, queueBreakdownResponseSchema, systemEventsResponseSchema, workersResponseSchema, type AlertValues, type WorkerHeartbeat } from '@jobstream/contracts';
import { budgetPeriod, chargeJob, publishSystemEvent, SYSTEM_FIELDS } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import type { Redis } from 'ioredis';
import { workerStatusOf } from '../services/api/src/operations/worker-status';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { keysFor, startMetrics, testRedis, waitFor } from './operations-helpers';

const values: AlertValues = {
  queueDepth: 0,
  active: 0,
  delayed: 0,
  failureRate: 0,
  finishedInWindow: 0,
  failedInWindow: 0,
  workersLive: 1,
  workersStalled: 0,
  circuitBreakersOpen: 0,
  budgetSpent: 0,
  budgetLimit: 100,
  killSwitchEnabled: false,
};

const beat = (overrides: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat => ({
  workerId: 'host-a:100:w1',
  host: 'host-a',
  pid: 100,
  at: 1_000_000,
  intervalMs: 5_000,
  activeJobs: [],
  breakers: [{ name: 'flashcards', state: 'closed', failures: 0, changedAt: 900_000 }],
  ...overrides,
});

describe('worker status from a heartbeat', () => {
  it('is live within three heartbeat intervals and silent after', () => {
    expect(workerStatusOf(beat(), 1_015_000, 120_000).live).toBe(true);
    expect(workerStatusOf(beat(), 1_015_001, 120_000).live).toBe(false);
  });

  it('is stalled when it holds a job without heartbeat or without progress past the limit, and unknown without a limit', () => {
    const job = { jobId: '7', type: 'demo.work', startedAt: 1_000_000, lastProgressAt: 1_000_000 };
    const hung = beat({ at: 1_200_000, activeJobs: [job] });
    expect(workerStatusOf(hung, 1_200_000, 120_000)).toMatchObject({ live: true, stalled: true, activeJobs: [{ jobId: '7', runningMs: 200_000, silentMs: 200_000 }] });
    expect(workerStatusOf(hung, 1_200_000, 300_000).stalled).toBe(false);
    expect(workerStatusOf(beat({ activeJobs: [job] }), 1_130_000, 120_000)).toMatchObject({ live: false, stalled: true });
    // Silent but holding nothing: not stalled (the metrics service clears it).
    expect(workerStatusOf(beat(), 1_130_000, 120_000)).toMatchObject({ live: false, stalled: false });
    expect(workerStatusOf(hung, 1_200_000, null).stalled).toBeNull();
  });
});

describe('GET /api/admin/workers and GET /api/admin/system-events', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let redis: Redis;
  let admin: Record<string, string>;

  beforeAll(async () => {
    env = testEnv({ ALERT_EVAL_INTERVAL_MS: '200', WORKER_HEARTBEAT_MS: '200' });
    api = await startApi(env);
    redis = testRedis();
    admin = await authHeaders('ops', ['admin']);
  });

  afterAll(async () => {
    await api.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it("lists a running worker's heartbeat, and says stalled only once an alert evaluation gave the limit", async () => {
    const worker: WorkerService = await startWorker(env);
    try {
      const first = await waitFor('a heartbeat', async () => {
        const res = await http('GET', `${api.url}/api/admin/workers`, undefined, admin);
        return res.status === 200 && res.body.workers.length > 0 ? res.body : undefined;
      });
      expect(workersResponseSchema.parse(first)).toMatchObject({ stallMs: null, workers: [{ live: true, stalled: null, activeJobs: [] }] });
      expect(first.workers[0].breakers).toContainEqual(expect.objectContaining({ state: 'closed', failures: 0 }));

      const metrics = await startMetrics({ ...env, ALERT_WORKER_STALL_MS: '60000' });
      try {
        const evaluated = await waitFor('the stall limit', async () => {
          const res = await http('GET', `${api.url}/api/admin/workers`, undefined, admin);
          return res.body.stallMs === 60_000 ? res.body : undefined;
        });
        expect(evaluated.workers).toEqual([expect.objectContaining({ live: true, stalled: false })]);
      } finally {
        await metrics.close();
      }
    } finally {
      await worker.close();
    }
  });

  it('puts a worker whose job has hung first, marked stalled, and skips a heartbeat it cannot read', async () => {
    const keys = keysFor(env);
    const now = Date.now();
    const hung = beat({ workerId: 'host-b:200:hung', at: now, activeJobs: [{ jobId: '42', type: 'demo.work', startedAt: now - 600_000, lastProgressAt: now - 300_000 }] });
    await redis.hset(keys.workers, hung.workerId, JSON.stringify(hung), 'garbage', '{"not":"a heartbeat"', 'host-c:1:fine', JSON.stringify(beat({ workerId: 'host-c:1:fine', at: now })));
    try {
      const res = await http('GET', `${api.url}/api/admin/workers`, undefined, admin);
      expect(res.status).toBe(200);
      const workers = workersResponseSchema.parse(res.body).workers.filter((w) => w.workerId !== 'garbage');
      expect(res.body.workers.map((w: { workerId: string }) => w.workerId)).not.toContain('garbage');
      expect(workers[0]).toMatchObject({ workerId: 'host-b:200:hung', stalled: true, activeJobs: [{ jobId: '42', silentMs: expect.any(Number) }] });
      expect(workers[0]?.activeJobs[0]?.silentMs).toBeGreaterThanOrEqual(300_000);
      expect(workers.map((w) => w.workerId)).toContain('host-c:1:fine');
    } finally {
      await redis.hdel(keys.workers, hung.workerId, 'garbage', 'host-c:1:fine');
    }
  });

  it('refuses parameters the workers route does not take', async () => {
    const res = await http('GET', `${api.url}/api/admin/workers?limit=5`, undefined, admin);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'limit' }] });
  });

  it('returns the latest system notifications newest first, as many as asked, of one kind when asked, skipping broken entries', async () => {
    const keys = keysFor(env);
    const at = new Date().toISOString();
    await publishSystemEvent(redis, keys, 'alert_started', { timestamp: at, alert: 'queueDepthHigh', values });
    await publishSystemEvent(redis, keys, 'kill_switch_changed', { timestamp: at, enabled: true, reason: 'drill', auto: false, changedBy: 'ops' });
    await redis.xadd(keys.system, '*', SYSTEM_FIELDS.event, 'alert_resolved', SYSTEM_FIELDS.data, '{broken');
    await redis.xadd(keys.system, '*', SYSTEM_FIELDS.event, 'no_such_event', SYSTEM_FIELDS.data, '{}');
    await publishSystemEvent(redis, keys, 'alert_resolved', { timestamp: at, alert: 'queueDepthHigh', values });

    const all = await http('GET', `${api.url}/api/admin/system-events`, undefined, admin);
    expect(all.status).toBe(200);
    expect(systemEventsResponseSchema.parse(all.body).events.map((e) => e.event)).toEqual(['alert_resolved', 'kill_switch_changed', 'alert_started']);

    const two = await http('GET', `${api.url}/api/admin/system-events?limit=2`, undefined, admin);
    expect(two.body.events.map((e: { event: string }) => e.event)).toEqual(['alert_resolved', 'kill_switch_changed']);

    const switches = await http('GET', `${api.url}/api/admin/system-events?event=kill_switch_changed`, undefined, admin);
    expect(switches.body.events).toEqual([expect.objectContaining({ event: 'kill_switch_changed', data: expect.objectContaining({ enabled: true, reason: 'drill', changedBy: 'ops' }) })]);
  });

  it('finds an older notification of one kind behind many newer ones of another', async () => {
    const keys = keysFor(env);
    const at = new Date().toISOString();
    await publishSystemEvent(redis, keys, 'budget_warning', { timestamp: at, period: '2026-12', spent: 85, limit: 100, ratio: 0.85 });
    for (let i = 0; i < 1_200; i += 1) await redis.xadd(keys.system, '*', SYSTEM_FIELDS.event, 'alert_started', SYSTEM_FIELDS.data, JSON.stringify({ timestamp: at, alert: 'queueDepthHigh', values }));
    const res = await http('GET', `${api.url}/api/admin/system-events?event=budget_warning&limit=1`, undefined, admin);
    expect(res.body.events).toEqual([expect.objectContaining({ event: 'budget_warning', data: expect.objectContaining({ spent: 85 }) })]);
  });

  it('answers 400 VALIDATION_FAILED naming the parameter for a bad limit, an unknown kind, a repeated or an unknown parameter', async () => {
    for (const [query, path] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=99999999999999999999', 'limit'],
      ['event=__proto__', 'event'],
      ['event=alert_started&event=budget_warning', 'event'],
      ['since=0', 'since'],
    ] as const) {
      const res = await http('GET', `${api.url}/api/admin/system-events?${query}`, undefined, admin);
      expect({ query, status: res.status, code: res.body?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(res.body.details)).toContain(path);
    }
  });
});

describe('GET /api/admin/queue/breakdown and GET /api/admin/budget/charges', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let redis: Redis;
  let admin: Record<string, string>;

  beforeAll(async () => {
    env = testEnv();
    api = await startApi(env);
    redis = testRedis();
    admin = await authHeaders('ops', ['admin']);
  });

  afterAll(async () => {
    await api.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const enqueueAs = async (user: string, payload: Record<string, unknown>): Promise<string> => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload }, await authHeaders(user));
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  };

  it('counts the oldest waiting jobs by owner and type, most first, and the newest failed ones by error too', async () => {
    await enqueueAs('alice', { durationMs: 1 });
    await enqueueAs('bob', { durationMs: 1 });
    await enqueueAs('alice', { durationMs: 1 });
    await enqueueAs('alice', { durationMs: 1 });
    const waiting = await http('GET', `${api.url}/api/admin/queue/breakdown?state=waiting`, undefined, admin);
    expect(waiting.status).toBe(200);
    expect(queueBreakdownResponseSchema.parse(waiting.body)).toEqual({
      state: 'waiting',
      jobs: 4,
      byOwner: [{ owner: 'alice', jobs: 3 }, { owner: 'bob', jobs: 1 }],
      byType: [{ type: 'demo.work', jobs: 4 }],
      byError: [],
    });
    // The oldest two: alice's first job and bob's.
    const oldest = await http('GET', `${api.url}/api/admin/queue/breakdown?state=waiting&limit=2`, undefined, admin);
    expect(oldest.body.byOwner).toEqual([{ owner: 'alice', jobs: 1 }, { owner: 'bob', jobs: 1 }]);

    const worker: WorkerService = await startWorker(env);
    try {
      await enqueueAs('carol', { durationMs: 1, failAttempts: 10 });
      await waitFor('the first failure', async () => (await redis.zcard(`${env.QUEUE_PREFIX}:jobs:failed`)) === 1);
      const newestFailed = await enqueueAs('carol', { durationMs: 1, failAttempts: 10 });
      const failed = await waitFor('two failed jobs', async () => {
        const res = await http('GET', `${api.url}/api/admin/queue/breakdown?state=failed`, undefined, admin);
        return res.body.jobs === 2 ? res.body : undefined;
      });
      expect(failed.byOwner).toEqual([{ owner: 'carol', jobs: 2 }]);
      expect(failed.byError).toEqual([{ error: expect.stringContaining('attempt'), jobs: 2, newestJobId: newestFailed }]);
    } finally {
      await worker.close();
    }
  });

  it("lists the month's most expensive jobs with their owners, null for a job that is gone, with the count and the total", async () => {
    const period = budgetPeriod(Date.now());
    const keys = keysFor(env);
    const cheap = await enqueueAs('dave', { durationMs: 1 });
    const dear = await enqueueAs('erin', { durationMs: 1 });
    await chargeJob(redis, keys, { period, jobId: cheap, cost: 0.25 });
    await chargeJob(redis, keys, { period, jobId: dear, cost: 2 });
    await chargeJob(redis, keys, { period, jobId: 'expired-job', cost: 1.5 });

    const res = await http('GET', `${api.url}/api/admin/budget/charges?limit=2`, undefined, admin);
    expect(res.status).toBe(200);
    expect(budgetChargesResponseSchema.parse(res.body)).toEqual({
      period,
      jobsCharged: 3,
      total: 3.75,
      jobs: [
        { jobId: dear, cost: 2, owner: 'erin' },
        { jobId: 'expired-job', cost: 1.5, owner: null },
      ],
    });
    const other = await http('GET', `${api.url}/api/admin/budget/charges?period=2001-01`, undefined, admin);
    expect(other.body).toEqual({ period: '2001-01', jobsCharged: 0, total: 0, jobs: [] });
  });

  it('answers 400 VALIDATION_FAILED naming the parameter for a missing or unknown state, a bad limit or month, an unknown parameter', async () => {
    for (const [path, param] of [
      ['/api/admin/queue/breakdown', 'state'],
      ['/api/admin/queue/breakdown?state=active', 'state'],
      ['/api/admin/queue/breakdown?state=waiting&limit=1001', 'limit'],
      ['/api/admin/queue/breakdown?state=waiting&state=failed', 'state'],
      ['/api/admin/queue/breakdown?state=waiting&owner=alice', 'owner'],
      ['/api/admin/budget/charges?limit=101', 'limit'],
      ['/api/admin/budget/charges?period=2026-13', 'period'],
      ['/api/admin/budget/charges?period=*', 'period'],
      ['/api/admin/budget/charges?period=2026-12%00', 'period'],
    ] as const) {
      const res = await http('GET', `${api.url}${path}`, undefined, admin);
      expect({ path, status: res.status, code: res.body?.code }).toEqual({ path, status: 400, code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(res.body.details)).toContain(param);
    }
  });
});

describe('GET /api/admin/feed', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let redis: Redis;
  let admin: Record<string, string>;

  beforeAll(async () => {
    env = testEnv({ ALERT_EVAL_INTERVAL_MS: '200' });
    api = await startApi(env);
    redis = testRedis();
    admin = await authHeaders('ops', ['admin']);
  });

  afterAll(async () => {
    await api.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const progress = async () => {
    const res = await http('GET', `${api.url}/api/admin/feed`, undefined, admin);
    expect(res.status).toBe(200);
    return feedProgressResponseSchema.parse(res.body);
  };

  it('says how far behind the newest feed entry the metrics service is, and when it has caught up', async () => {
    expect(await progress()).toEqual({ newestId: null, newestAt: null, metricsCursor: null, metricsCursorAt: null, behindEntries: 0, behindMs: 0 });
    const worker: WorkerService = await startWorker(env);
    try {
      const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1 } });
      expect(res.status).toBe(202);
      // Written by the relay: waiting, active, completed at least.
      const behind = await waitFor('feed entries', async () => {
        const p = await progress();
        return p.behindEntries >= 3 ? p : undefined;
      });
      expect(behind).toMatchObject({ newestId: expect.stringMatching(/^\d+-\d+$/), metricsCursor: null });

      const metrics = await startMetrics(env);
      try {
        const caughtUp = await waitFor('the metrics service to catch up', async () => {
          const p = await progress();
          return p.metricsCursor !== null && p.behindEntries === 0 ? p : undefined;
        });
        expect(caughtUp.metricsCursor).toBe(caughtUp.newestId);
        expect(caughtUp.behindMs).toBe(0);
      } finally {
        await metrics.close();
      }
    } finally {
      await worker.close();
    }
  });

  it('reads a cursor that is not a stream id as none, and refuses parameters', async () => {
    await redis.set(keysFor(env).metricsCursor, 'not-an-id');
    expect((await progress()).metricsCursor).toBeNull();
    const res = await http('GET', `${api.url}/api/admin/feed?count=5`, undefined, admin);
    expect([res.status, res.body?.code, res.body?.details?.[0]?.path]).toEqual([400, 'VALIDATION_FAILED', 'count']);
  });
});
