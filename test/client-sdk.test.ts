import type { ApiServer } from '@jobstream/api';
import {
  BudgetLimitError,
  ConflictError,
  createClient,
  ForbiddenError,
  isApiError,
  JobstreamApiError,
  JobstreamNetworkError,
  NotFoundError,
  RedisUnavailableError,
  UnauthorizedError,
  ValidationError,
  type ConnectionState,
  type JobSnapshot,
  type JobState,
  type JobWatchItem,
  type LifecycleEvent,
  type NotificationItem,
} from '@jobstream/client';
import {
  alertsResponseSchema,
  budgetStatusSchema,
  enqueueResponseSchema,
  jobSnapshotSchema,
  killSwitchStateSchema,
  parseLifecycleEvent,
  queueStatsSchema,
} from '@jobstream/contracts';
import { jobstreamKeys } from '@jobstream/runtime';
import { randomUUID } from 'node:crypto';
import type { WorkerService } from '@jobstream/worker';
import { Redis } from 'ioredis';
import { DEFAULT_TEST_USER, tokenFor } from '../test-support/auth';
import { freePort, startRedisServer } from '../test-support/redis-server';
import { trimJobHistory } from '../test-support/job-history';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { cleanupPrefix, spawnService, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { startMetrics } from './operations-helpers';

/** A plain user's token (every client below but the anonymous one) and an admin's. */
let userToken: string;
let adminToken: string;

/** Every lifecycle event a fresh raw SSE subscriber gets for the job: the reference to compare with. */
async function referenceEvents(baseUrl: string, jobId: string): Promise<ReceivedEvent[]> {
  const stream = await connectSse(`${baseUrl}/api/jobs/${jobId}/events`);
  await stream.ended;
  return stream.lifecycle();
}

const lifecycleOf = (items: JobWatchItem[]) => items.filter((i): i is LifecycleEvent => i.event !== 'snapshot');

describe('the client SDK against the real api', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;

  beforeAll(async () => {
    env = testEnv({ ALERT_EVAL_INTERVAL_MS: '200', WORKER_METRICS_PORT: '0' });
    userToken = await tokenFor(DEFAULT_TEST_USER);
    adminToken = await tokenFor('sdk-ops', ['admin']);
    api = await startApi(env);
    worker = await startWorker(env);
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  describe('watching a job', () => {
    it('yields the first snapshot, then every lifecycle event once and in order, and ends after completed', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const enqueued = await client.enqueue('demo.work', { durationMs: 300, steps: 3 });
      expect(enqueueResponseSchema.parse(enqueued)).toEqual(enqueued);
      const { jobId } = enqueued;
      const items: JobWatchItem[] = [];
      const states: ConnectionState[] = [];
      const watch = client.watchJob(jobId);
      watch.on('connection', (info) => states.push(info.state));
      for await (const item of watch) items.push(item);

      expect(items[0]).toMatchObject({ event: 'snapshot', reason: 'connected', job: { jobId, type: 'demo.work' } });
      const events = lifecycleOf(items);
      expect(events.map((e) => e.event)).toEqual(['waiting', 'active', 'progress', 'progress', 'progress', 'completed']);
      const reference = await referenceEvents(api.url, jobId);
      expect(events.map((e) => e.id)).toEqual(reference.map((e) => e.id));
      expect(events.map((e) => e.data)).toEqual(reference.map((e) => e.data));
      expect(events.at(-1)).toMatchObject({ event: 'completed', data: { result: { ok: true, steps: 3 } } });
      // What the SDK yields is exactly what the contract's schemas describe.
      for (const e of events) expect(parseLifecycleEvent(e.id, e.event, e.data)).toEqual(e);
      for (const item of items) if (item.event === 'snapshot') expect(jobSnapshotSchema.parse(item.job)).toEqual(item.job);
      expect(states).toEqual(['connecting', 'live', 'closed']);
      expect(watch.connectionState).toBe('closed');
      expect(watch.job).toMatchObject({ state: 'completed', progress: 100, result: { ok: true } });
      expect(watch.lastEventId).toBe(reference.at(-1)?.id);
    });

    it('tells listeners each state and progress change, then the end, and done resolves with the finished job', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 300, steps: 4 });
      const states: JobState[] = [];
      const progress: unknown[] = [];
      const events: string[] = [];
      let ended: JobSnapshot | undefined;
      let replayed: boolean | undefined;
      let closed = 0;
      const watch = client
        .watchJob(jobId)
        .on('state', (state) => states.push(state))
        .on('progress', (p) => progress.push(p))
        .on('event', (e) => events.push(e.event))
        .on('end', (job, info) => {
          ended = job;
          replayed = info.replayed;
        })
        .on('close', () => (closed += 1));
      const final = await watch.done;

      expect(states).toEqual(['waiting', 'active', 'completed']);
      expect(progress).toEqual([0, 25, 50, 75, 100]);
      expect(events).toEqual(['waiting', 'active', 'progress', 'progress', 'progress', 'progress', 'completed']);
      expect(final).toMatchObject({ jobId, state: 'completed', result: { ok: true, steps: 4 } });
      expect(ended).toBe(final);
      expect(replayed).toBe(false);
      expect(closed).toBe(1);

      // Watching it again replays the history from the start, and says that the end is not news.
      const again: JobState[] = [];
      let replayedAgain: boolean | undefined;
      await client
        .watchJob(jobId)
        .on('state', (state) => again.push(state))
        .on('end', (_job, info) => (replayedAgain = info.replayed)).done;
      expect(again).toEqual(['waiting', 'active', 'completed']);
      expect(replayedAgain).toBe(true);
    });

    it('follows a job through its retries and ends only on the failure that will not be retried', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 10, failAttempts: 3 });
      const items: JobWatchItem[] = [];
      for await (const item of client.watchJob(jobId)) items.push(item);
      const failures = lifecycleOf(items).filter((e) => e.event === 'failed');
      expect(failures.map((e) => e.event === 'failed' && e.data.willRetry)).toEqual([true, true, false]);
      expect(items.at(-1)).toMatchObject({ event: 'failed', data: { willRetry: false, attemptsMade: 3 } });
      expect(await client.getJob(jobId)).toMatchObject({ state: 'failed', attemptsMade: 3 });
    });

    it('resumes after a given lastEventId with exactly the events after it', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 50, steps: 3 });
      const reference = await referenceEvents(api.url, jobId);
      const items: JobWatchItem[] = [];
      for await (const item of client.watchJob(jobId, { lastEventId: reference[1]!.id })) items.push(item);
      expect(lifecycleOf(items).map((e) => e.id)).toEqual(reference.slice(2).map((e) => e.id));
    });

    it('takes the fresh snapshot of a reset when the trimmed history no longer covers its cursor', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 50, steps: 5 });
      const reference = await referenceEvents(api.url, jobId);
      const redis = new Redis(testRedisUrl());
      await trimJobHistory(redis, jobstreamKeys({ prefix: env.QUEUE_PREFIX as string, name: 'jobs' }), jobId, 2);
      redis.disconnect();

      const items: JobWatchItem[] = [];
      const resets: JobSnapshot[] = [];
      const watch = client.watchJob(jobId, { lastEventId: reference[1]!.id }).on('reset', (job) => resets.push(job));
      for await (const item of watch) items.push(item);

      expect(items.map((i) => i.event)).toEqual(['snapshot', 'snapshot', 'progress', 'completed']);
      expect(items[0]).toMatchObject({ event: 'snapshot', reason: 'connected', job: { jobId, state: 'completed' } });
      expect(items[1]).toMatchObject({ event: 'snapshot', reason: 'reset', job: { jobId, state: 'completed' } });
      expect(lifecycleOf(items).map((e) => e.id)).toEqual(reference.slice(-2).map((e) => e.id));
      expect(resets).toHaveLength(1);
      expect(watch.job).toMatchObject({ state: 'completed', progress: 100 });
    });

    it('stops on the 204 of a cursor that is already the terminal event, reporting the job from one request', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 10 });
      const reference = await referenceEvents(api.url, jobId);
      const items: JobWatchItem[] = [];
      const watch = client.watchJob(jobId, { lastEventId: reference.at(-1)!.id });
      for await (const item of watch) items.push(item);
      expect(items).toEqual([{ event: 'snapshot', reason: 'poll', job: expect.objectContaining({ jobId, state: 'completed' }) }]);
      expect(await watch.done).toMatchObject({ state: 'completed' });
    });

    it('stops with a NotFoundError for an unknown job, through the iterator, the error listener and done', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const watch = client.watchJob('no-such-job');
      const errors: unknown[] = [];
      watch.on('error', (err) => errors.push(err));
      await expect(
        (async () => {
          for await (const _ of watch) {
            // nothing arrives
          }
        })(),
      ).rejects.toMatchObject({ name: 'NotFoundError', status: 404, code: 'JOB_NOT_FOUND' });
      await expect(watch.done).rejects.toBeInstanceOf(NotFoundError);
      expect(errors).toHaveLength(1);
      expect(watch.connectionState).toBe('closed');
      expect(watch.error?.code).toBe('JOB_NOT_FOUND');
    });

    it('closes at once on close(): the iterator finishes and done resolves with undefined', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 5_000, steps: 50 });
      const watch = client.watchJob(jobId);
      const seen: string[] = [];
      for await (const item of watch) {
        seen.push(item.event);
        if (item.event === 'active') break; // leaving the loop closes the watch
      }
      expect(seen).toEqual(['snapshot', 'waiting', 'active']);
      expect(watch.connectionState).toBe('closed');
      expect(await watch.done).toBeUndefined();
    });

    it('starts lazily, so an iterator created after an await still gets everything', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const { jobId } = await client.enqueue('demo.work', { durationMs: 10 });
      const watch = client.watchJob(jobId);
      await new Promise((r) => setTimeout(r, 300));
      const items: JobWatchItem[] = [];
      for await (const item of watch) items.push(item);
      expect(items.map((i) => i.event)).toEqual(['snapshot', 'waiting', 'active', 'completed']);
    });
  });

  describe('requests', () => {
    it('enqueues with an idempotency key: the same key names the same job, another payload is a ConflictError', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const key = `key-${Date.now()}`;
      const first = await client.enqueue('demo.work', { durationMs: 10 }, { idempotencyKey: key });
      const again = await client.enqueue('demo.work', { durationMs: 10 }, { idempotencyKey: key });
      expect(again.jobId).toBe(first.jobId);
      const conflict = await client.enqueue('demo.work', { durationMs: 20 }, { idempotencyKey: key }).catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(ConflictError);
      expect(conflict).toMatchObject({ status: 409, code: 'IDEMPOTENCY_KEY_REUSED' });
    });

    it("lists the caller's own jobs newest first, page by page with nextCursor, and no other user's", async () => {
      const user = `lister-${Date.now()}`;
      const client = createClient({ baseUrl: api.url, token: await tokenFor(user) });
      const submitted: string[] = [];
      for (let i = 0; i < 3; i += 1) submitted.push((await client.enqueue('demo.work', { durationMs: 10 })).jobId);
      await createClient({ baseUrl: api.url, token: await tokenFor(`${user}-other`) }).enqueue('demo.work', { durationMs: 10 });
      const first = await client.listJobs({ limit: 2 });
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await client.listJobs({ limit: 2, cursor: first.nextCursor! });
      expect(second.nextCursor).toBeNull();
      expect([...first.jobs, ...second.jobs].map((job) => job.jobId)).toEqual([...submitted].reverse());
      const badCursor = await client.listJobs({ cursor: 'not-a-cursor' }).catch((e: unknown) => e);
      expect(badCursor).toBeInstanceOf(ValidationError);
      expect(badCursor).toMatchObject({ status: 400, code: 'INVALID_CURSOR' });
    });

    it('maps error answers to typed errors with the stable code, status and details', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const missing = await client.getJob('nope-123').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(missing).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND', message: expect.stringContaining('nope-123') });

      const invalid = await client.enqueue('demo.work', { durationMs: -1 }).catch((e: unknown) => e);
      expect(invalid).toBeInstanceOf(ValidationError);
      expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: [{ path: 'payload.durationMs', message: expect.any(String) }] });

      const badId = await client.getJob('../etc/passwd').catch((e: unknown) => e);
      expect(badId).toMatchObject({ name: 'ValidationError', status: 400, code: 'INVALID_JOB_ID' });

      // The code switch narrows to the contract's codes.
      expect(isApiError(missing, 'JOB_NOT_FOUND')).toBe(true);
      expect(isApiError(missing, 'VALIDATION_FAILED')).toBe(false);
      expect(isApiError(new Error('x'))).toBe(false);
    });

    it('carries the request id the api answered an error with, the key to its log lines', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const first = await client.getJob('nope-123').catch((e: unknown) => e);
      const second = await client.getJob('nope-123').catch((e: unknown) => e);
      expect(first).toBeInstanceOf(NotFoundError);
      const ids = [(first as NotFoundError).requestId, (second as NotFoundError).requestId];
      expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(ids[1]).toMatch(/^[0-9a-f-]{36}$/);
      expect(ids[0]).not.toBe(ids[1]);
    });

    it('sends the token, and maps a missing or bad one to UnauthorizedError and a missing role to ForbiddenError', async () => {
      const anonymous = createClient({ baseUrl: api.url });
      const unauthorized = await anonymous.budget().catch((e: unknown) => e);
      expect(unauthorized).toBeInstanceOf(UnauthorizedError);
      expect(unauthorized).toMatchObject({ status: 401, code: 'AUTH_REQUIRED' });
      const garbage = await createClient({ baseUrl: api.url, token: 'not-a-jwt' }).getJob('some-job').catch((e: unknown) => e);
      expect(garbage).toBeInstanceOf(UnauthorizedError);
      expect(garbage).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
      const wrong = await createClient({ baseUrl: api.url, token: userToken }).budget().catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(ForbiddenError);
      expect(wrong).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    });

    it('flips the kill-switch as an admin; a submission then fails with BudgetLimitError and its Retry-After', async () => {
      let calls = 0;
      const admin = createClient({
        baseUrl: api.url,
        getToken: async () => {
          calls += 1;
          return adminToken;
        },
      });
      const on = await admin.setKillSwitch(true, 'client SDK test');
      expect(on).toMatchObject({ enabled: true, reason: 'client SDK test', auto: false, changedBy: expect.any(String) });
      expect(killSwitchStateSchema.parse(on)).toEqual(on);
      try {
        const budget = await admin.budget();
        expect(budget.killSwitch).toMatchObject({ enabled: true, reason: 'client SDK test' });
        expect(budget.period).toMatch(/^\d{4}-\d{2}$/);
        expect(budgetStatusSchema.parse(budget)).toEqual(budget);
        const audit = await admin.killSwitchAudit(5);
        expect(audit[0]).toMatchObject({ enabled: true, reason: 'client SDK test' });

        const user = createClient({ baseUrl: api.url, token: userToken });
        let refused: unknown;
        for (let i = 0; i < 50 && !refused; i += 1) {
          // The replica re-reads the switch every 250 ms.
          refused = await user.enqueue('demo.work', { durationMs: 0 }).then(() => undefined, (e: unknown) => e);
          if (!refused) await new Promise((r) => setTimeout(r, 50));
        }
        expect(refused).toBeInstanceOf(BudgetLimitError);
        expect(refused).toMatchObject({ status: 429, code: 'BUDGET_LIMIT_EXCEEDED', retryAfterMs: 60_000 });
        expect((refused as Error).message).toContain('client SDK test');

        const missingReason = await admin.setKillSwitch(true).catch((e: unknown) => e);
        expect(missingReason).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'reason' }] });
      } finally {
        expect(await admin.setKillSwitch(false)).toMatchObject({ enabled: false });
      }
      expect(calls).toBe(5); // getToken runs before every request
    });

    it('reads queue stats as a user and, once the metrics service evaluated them, the alerts as an admin', async () => {
      const stats = await createClient({ baseUrl: api.url, token: userToken }).queueStats();
      expect(stats.queue).toBe('jobs');
      expect(stats.counts.completed).toBeGreaterThan(0);
      expect(queueStatsSchema.parse(stats)).toEqual(stats);

      const client = createClient({ baseUrl: api.url, token: adminToken });
      const before = await client.alerts().catch((e: unknown) => e);
      const metrics = await startMetrics(env);
      try {
        if (before instanceof JobstreamApiError) expect(before).toMatchObject({ status: 503, code: 'ALERTS_UNAVAILABLE', retryAfterMs: 5_000 });
        let alerts = await client.alerts().catch(() => undefined);
        for (let i = 0; i < 100 && !alerts; i += 1) {
          await new Promise((r) => setTimeout(r, 50));
          alerts = await client.alerts().catch(() => undefined);
        }
        expect(alerts).toMatchObject({ alertsActive: expect.any(Number), stale: false, alerts: { queueDepthHigh: false } });
        expect(alertsResponseSchema.parse(alerts)).toEqual(alerts);
      } finally {
        await metrics.close();
      }
    });

    it('maps an unreachable Redis to RedisUnavailableError with its Retry-After', async () => {
      // A spawned api (built first by `npm test`): one whose Redis is gone cannot close cleanly in-process.
      const redis = await startRedisServer();
      const lonely = await spawnService('api', testEnv({ REDIS_URL: redis.url }));
      try {
        await redis.stop(true);
        const err = await createClient({ baseUrl: lonely.url!, token: userToken }).getJob(randomUUID()).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RedisUnavailableError);
        expect(err).toMatchObject({ status: 503, code: 'REDIS_UNAVAILABLE', retryAfterMs: 5_000 });
      } finally {
        await lonely.stop('SIGKILL');
        await redis.destroy();
      }
    });

    it('turns a connection failure into JobstreamNetworkError', async () => {
      const port = await freePort();
      const err = await createClient({ baseUrl: `http://127.0.0.1:${port}` }).getJob('x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JobstreamNetworkError);
      expect(err).toMatchObject({ code: 'NETWORK_ERROR', message: expect.stringContaining('ECONNREFUSED') });
    });

    it('rejects configuration mistakes when the client is created, naming the option', () => {
      expect(() => createClient({ baseUrl: 'localhost:3000' })).toThrow(/baseUrl must be an http\(s\) URL/);
      expect(() => createClient({ baseUrl: 'http://x', token: 'a', getToken: () => 'b' })).toThrow(/either token or getToken/);
      expect(() => createClient({ baseUrl: 'http://x', stream: { pollIntervalMs: -1 } })).toThrow(/pollIntervalMs must be a number >= 1/);
    });
  });

  describe('notifications', () => {
    it('watches /api/notifications/stream on the same engine, filtered on the server, and reads the inbox', async () => {
      const client = createClient({ baseUrl: api.url, token: userToken });
      const watch = client.watchNotifications({ types: ['chat.message'], severity: ['high', 'critical'] });
      const items: NotificationItem[] = [];
      let changed: () => void = () => undefined;
      watch.on('notification', (item) => {
        items.push(item);
        changed();
      });
      const arrived = (test: (seen: NotificationItem[]) => boolean) =>
        new Promise<void>((resolve) => {
          changed = () => test(items) && resolve();
          changed();
        });
      await arrived((seen) => seen.some((i) => i.event === 'connected'));
      const serviceToken = await tokenFor('sdk-chat', ['service']);
      for (const priority of ['low', 'urgent']) {
        const res = await fetch(`${api.url}/api/notifications`, {
          method: 'POST',
          headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ userId: DEFAULT_TEST_USER, type: 'chat.message', title: priority, message: 'from the SDK test', priority }),
        });
        expect(res.status).toBe(201);
      }
      await arrived((seen) => seen.filter((i) => i.event === 'unread_count').length === 2);
      watch.close();
      expect(items.flatMap((i) => (i.event === 'notification' ? [i.data.title] : []))).toEqual(['urgent']);
      expect(items.every((i) => i.id !== undefined)).toBe(true);
      expect(await client.inbox.list({ unread: true, limit: 1 })).toMatchObject({ items: [{ title: 'urgent', read: false }], unreadCount: 2, nextCursor: expect.any(String) });
    });
  });
});
