import type { ApiServer } from '@jobstream/api';
import {
  adminJobListResponseSchema,
  apiErrorBodySchema,
  cancelJobResponseSchema,
  cleanJobsResponseSchema,
  type AdminJobListResponse,
} from '@jobstream/contracts';
import { JOB_CANCELLED_FIELD, readHistory } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisClient, testRedisUrl, type TestEnv } from '../test-support/services';
import { connectSse, type SseConnection } from '../test-support/sse-client';
import { waitUntil } from '../test-support/wait';
import { keysFor } from './notifications-helpers';

/*
 * Cancel, retry, the admin's job browser and clean-up, against a real api, real workers and Redis.
 * alice owns the jobs; mallory is another user; root is an admin.
 */
describe('job control', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };
  let workers: WorkerService[];
  let alice: Record<string, string>;
  let mallory: Record<string, string>;
  let root: Record<string, string>;
  const redis = testRedisClient();

  const setUp = async (overrides: Record<string, string> = {}) => {
    env = testEnv(overrides);
    api = await startApi(env);
  };

  beforeEach(async () => {
    workers = [];
    alice = await authHeaders('alice');
    mallory = await authHeaders('mallory');
    root = await authHeaders('root', ['admin']);
  });

  afterEach(async () => {
    for (const worker of workers) await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  afterAll(() => redis.disconnect());

  const worker = async (overrides: Record<string, string> = {}): Promise<WorkerService> => {
    const started = await startWorker({ ...env, ...overrides });
    workers.push(started);
    return started;
  };

  const submit = async (payload: Record<string, unknown>, headers = alice): Promise<string> => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload }, headers);
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  };

  const cancel = (jobId: string, headers = alice) => http('POST', `${api.url}/api/jobs/${jobId}/cancel`, {}, headers);
  const retry = (jobId: string, headers = alice) => http('POST', `${api.url}/api/jobs/${jobId}/retry`, {}, headers);
  const stream = async (jobId: string, headers = alice, lastEventId?: string): Promise<SseConnection> => {
    const query = lastEventId === undefined ? '' : `?lastEventId=${encodeURIComponent(lastEventId)}`;
    const connection = await connectSse(`${api.url}/api/jobs/${jobId}/events${query}`, headers);
    expect(connection.status).toBe(200);
    await connection.waitFor((events) => events[0]?.event === 'connected');
    return connection;
  };
  /** Waits until the job (read as an admin, whoever owns it) is in `state`. */
  const waitForState = async (jobId: string, state: string, timeoutMs = 20_000): Promise<void> => {
    await waitUntil(`job ${jobId} ${state}`, async () => (await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, root)).body?.state === state, timeoutMs, 50);
  };
  const refusal = (res: { status: number; body: unknown }) => `${res.status} ${apiErrorBodySchema.parse(res.body).code}`;

  describe('cancel', () => {
    it('removes a waiting job: its stream and its owner\'s notification stream get a final cancelled event, and the job is gone', async () => {
      await setUp();
      const jobId = await submit({ durationMs: 10 });
      const events = await stream(jobId);
      const notifications = await connectSse(`${api.url}/api/notifications/stream`, alice);
      await notifications.waitFor((e) => e[0]?.event === 'connected');

      const res = await cancel(jobId);
      expect(res.status).toBe(202);
      expect(cancelJobResponseSchema.parse(res.body)).toEqual({ jobId, action: 'removed' });
      // The relay runs in a worker process; the job it would have run is gone already.
      await worker();
      await events.ended;
      expect(events.lifecycle().map((e) => [e.event, e.data.by, e.data.previousState])).toEqual([['waiting', undefined, undefined], ['cancelled', 'owner', 'waiting']]);
      const note = await notifications.waitFor((e) => e.some((m) => m.event === 'job.cancelled'));
      expect(note.find((m) => m.event === 'job.cancelled')?.data).toMatchObject({ jobId, jobType: 'demo.work', by: 'owner', severity: 'medium' });
      notifications.close();
      expect((await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, alice)).status).toBe(404);
      // Cancelling it again finds nothing to cancel.
      expect(refusal(await cancel(jobId))).toBe('404 JOB_NOT_FOUND');
    });

    it('removes a waiting job once when two cancels race: one cancelled event, and nothing left to stop a job made later under its id', async () => {
      await setUp();
      const jobId = await submit({ durationMs: 10 });
      const answers = await Promise.all([cancel(jobId), cancel(jobId, root)]);
      // The loser answers 202 when it read the job before the winner removed it, and 404 after: the job is gone.
      const statuses = answers.map((res) => res.status);
      expect(statuses).toContain(202);
      expect(statuses.every((status) => status === 202 || status === 404)).toBe(true);
      expect(answers.filter((res) => res.status === 202).map((res) => res.body.action)).toContain('removed');
      await worker();
      const keys = keysFor(env);
      const cancelled = async () => (await redis.xrange(keys.history(jobId), '-', '+')).filter(([, fields]) => fields.includes('cancelled'));
      await waitUntil('the cancelled event', async () => (await cancelled()).length > 0);
      // A later event would have come with the first: the relay writes BullMQ's stream in order.
      const marker = await submit({ durationMs: 1 });
      await waitForState(marker, 'completed');
      expect(await cancelled()).toHaveLength(1);
      expect(await redis.exists(keys.cancelRequest(jobId))).toBe(0);
    });

    it('starts a job submitted again with the idempotency key of one cancelled before it ran afresh, without the old one\'s cancelled event', async () => {
      await setUp();
      const body = { type: 'demo.work', payload: { durationMs: 1 }, idempotencyKey: 'report-42' };
      const first = await http('POST', `${api.url}/api/jobs`, body, alice);
      const jobId = first.body.jobId as string;
      expect((await cancel(jobId)).body.action).toBe('removed');
      await worker();
      const keys = keysFor(env);
      await waitUntil('the cancelled event', async () => (await redis.xrange(keys.history(jobId), '-', '+')).some(([, fields]) => fields.includes('cancelled')));

      const again = await http('POST', `${api.url}/api/jobs`, body, alice);
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBeNull();
      expect(again.body.jobId).toBe(jobId);
      const events = await connectSse(`${api.url}/api/jobs/${jobId}/events`, alice);
      await events.ended;
      expect(events.lifecycle().map((e) => e.event)).toEqual(['waiting', 'active', 'completed']);
    });

    it('stops a running job through its signal: the stream ends with cancelled (no failed), the snapshot says failed and who cancelled it, and a second cancel is a 409', async () => {
      await setUp();
      await worker();
      const jobId = await submit({ durationMs: 30_000, steps: 30 });
      await waitForState(jobId, 'active');
      const events = await stream(jobId);
      const startedAt = Date.now();

      const res = await cancel(jobId);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ jobId, action: 'stop_requested' });
      await events.ended;
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      const lifecycle = events.lifecycle().map((e) => e.event);
      expect(lifecycle.at(-1)).toBe('cancelled');
      expect(lifecycle).not.toContain('failed');
      expect(events.lifecycle().at(-1)?.data).toMatchObject({ jobId, by: 'owner', previousState: 'active' });
      const snapshot = await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, alice);
      expect(snapshot.body).toMatchObject({ state: 'failed', cancelledBy: 'owner', error: 'cancelled by its owner', attemptsMade: 1 });
      expect(refusal(await cancel(jobId))).toBe('409 JOB_ALREADY_FINISHED');
      // The request was served: nothing is left for a later run of the job to trip on.
      expect(await redis.exists(keysFor(env).cancelRequest(jobId))).toBe(0);
    });

    it('lets an admin cancel another user\'s running job, recorded as by an admin, while that other user gets a 404', async () => {
      await setUp();
      await worker();
      const jobId = await submit({ durationMs: 30_000, steps: 30 });
      await waitForState(jobId, 'active');
      const events = await stream(jobId);
      expect(refusal(await cancel(jobId, mallory))).toBe('404 JOB_NOT_FOUND');
      expect((await cancel(jobId, root)).status).toBe(202);
      await events.ended;
      expect(events.lifecycle().at(-1)).toMatchObject({ event: 'cancelled', data: { by: 'admin', previousState: 'active' } });
      const rows = adminJobListResponseSchema.parse((await http('GET', `${api.url}/api/admin/jobs?state=failed`, undefined, root)).body);
      expect(rows.jobs.find((row) => row.jobId === jobId)).toMatchObject({ owner: 'alice', cancelledBy: 'admin', failedReason: 'cancelled by an admin' });
    });

    it('answers a cancel repeated while the job stops like the first one', async () => {
      await setUp();
      await worker();
      const jobId = await submit({ durationMs: 30_000, steps: 30 });
      await waitForState(jobId, 'active');
      const [first, second] = await Promise.all([cancel(jobId), cancel(jobId)]);
      expect([first.status, second.status]).toEqual([202, 202]);
      expect([first.body.action, second.body.action]).toEqual(['stop_requested', 'stop_requested']);
      await waitForState(jobId, 'failed');
    });

    it('stops a job at its start when its cancel request was stored before a worker took it', async () => {
      await setUp();
      const jobId = await submit({ durationMs: 30_000 });
      // What the api stores when the job turns active between its read and BullMQ's remove.
      await redis.set(keysFor(env).cancelRequest(jobId), 'owner', 'EX', 60);
      const events = await stream(jobId);
      await worker();
      await events.ended;
      expect(events.lifecycle().map((e) => e.event)).toEqual(['waiting', 'active', 'cancelled']);
      expect(await redis.hget(keysFor(env).job(jobId), JOB_CANCELLED_FIELD)).toBe('owner');
    });

    it('does not report a worker shutdown as a cancel: the job is not marked and another worker finishes it', async () => {
      await setUp();
      const first = await worker({ WORKER_SHUTDOWN_TIMEOUT_MS: '300' });
      const jobId = await submit({ durationMs: 3_000, steps: 3 });
      await waitForState(jobId, 'active');
      const events = await stream(jobId);
      await first.close();
      workers.splice(workers.indexOf(first), 1);
      expect(await redis.hget(keysFor(env).job(jobId), JOB_CANCELLED_FIELD)).toBeNull();
      await worker();
      await events.ended;
      const names = events.lifecycle().map((e) => e.event);
      expect(names.at(-1)).toBe('completed');
      expect(names).not.toContain('cancelled');
    });

    it('answers a cancel of a finished job with 409 JOB_ALREADY_FINISHED', async () => {
      await setUp();
      await worker();
      const jobId = await submit({ durationMs: 1 });
      await waitForState(jobId, 'completed');
      expect(refusal(await cancel(jobId))).toBe('409 JOB_ALREADY_FINISHED');
      expect(refusal(await cancel(jobId, root))).toBe('409 JOB_ALREADY_FINISHED');
    });
  });

  describe('retry', () => {
    it('runs a failed job again under its id, and a stream opened with its last cursor continues with the new events', async () => {
      await setUp();
      await worker();
      // Fails its three attempts (the type's policy); the fourth, run by the retry, succeeds.
      const jobId = await submit({ durationMs: 1, failAttempts: 3, result: { again: true } });
      const first = await stream(jobId);
      await first.ended;
      const last = first.lifecycle().at(-1);
      expect(last).toMatchObject({ event: 'failed', data: { willRetry: false } });

      const res = await retry(jobId);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ jobId, type: 'demo.work', state: 'waiting', links: { self: `/api/jobs/${jobId}` } });
      const resumed = await stream(jobId, alice, last?.id);
      await resumed.ended;
      const names = resumed.lifecycle().map((e) => e.event);
      expect(names[0]).toBe('waiting');
      expect(names).toContain('active');
      expect(resumed.lifecycle().at(-1)).toMatchObject({ event: 'completed', data: { result: { again: true } } });
      expect((await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, alice)).body).toMatchObject({ state: 'completed', attemptsMade: 4 });
    });

    it('retries a cancelled job as a new run: a later failure is a failure, not a cancel', async () => {
      await setUp();
      await worker();
      const jobId = await submit({ durationMs: 30_000, steps: 30 });
      await waitForState(jobId, 'active');
      await cancel(jobId);
      await waitForState(jobId, 'failed');
      expect((await retry(jobId)).status).toBe(202);
      expect(await redis.hget(keysFor(env).job(jobId), JOB_CANCELLED_FIELD)).toBeNull();
      await waitForState(jobId, 'active');
      expect((await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, alice)).body.cancelledBy).toBeUndefined();
      expect((await cancel(jobId, root)).status).toBe(202);
    });

    it('runs a failed job once when two retries race, and the losing one leaves the winner\'s place in the owner\'s quota', async () => {
      await setUp({ MAX_QUEUED_JOBS_PER_USER: '5' });
      const first = await worker();
      const jobId = await submit({ durationMs: 1, failAttempts: 3 });
      await waitForState(jobId, 'failed');
      // No worker from here: the retried job stays waiting, counted against alice.
      await first.close();
      workers.splice(workers.indexOf(first), 1);
      const answers = await Promise.all([retry(jobId), retry(jobId, root)]);
      expect(answers.map((res) => res.status).sort()).toEqual([202, 409]);
      expect(answers.find((res) => res.status === 409)?.body.code).toBe('JOB_NOT_RETRYABLE');
      expect(await redis.zscore(keysFor(env).unfinishedJobs('alice'), jobId)).not.toBeNull();
      expect((await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, alice)).body.state).toBe('waiting');
    });

    it('answers 409 JOB_NOT_RETRYABLE for a job that is waiting, running or completed', async () => {
      await setUp();
      const waiting = await submit({ durationMs: 1 });
      expect(refusal(await retry(waiting))).toBe('409 JOB_NOT_RETRYABLE');
      await worker();
      const running = await submit({ durationMs: 30_000, steps: 30 });
      await waitForState(running, 'active');
      expect(refusal(await retry(running))).toBe('409 JOB_NOT_RETRYABLE');
      await waitForState(waiting, 'completed');
      expect(refusal(await retry(waiting, root))).toBe('409 JOB_NOT_RETRYABLE');
      await cancel(running);
    });

    it('refuses a retry with the new-job 429 while the kill-switch is on, and counts it against the owner\'s queued-jobs quota', async () => {
      await setUp({ MAX_QUEUED_JOBS_PER_USER: '1', KILL_SWITCH_REFRESH_MS: '50' });
      await worker();
      const jobId = await submit({ durationMs: 1, failAttempts: 3 });
      await waitForState(jobId, 'failed');

      expect((await http('POST', `${api.url}/api/admin/budget/kill-switch`, { enabled: true, reason: 'maintenance' }, root)).status).toBe(200);
      // Until this replica has read the switch a retry would go through: wait on another user's submissions.
      await waitUntil('the kill-switch refusal', async () => (await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1 } }, mallory)).status === 429);
      const refused = await retry(jobId);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('BUDGET_LIMIT_EXCEEDED');
      expect(refused.headers.get('retry-after')).toBe('60');
      await http('POST', `${api.url}/api/admin/budget/kill-switch`, { enabled: false }, root);
      await waitUntil('the switch off', async () => (await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 30_000 } }, alice)).status === 202);
      // alice's one place is taken by the job just submitted: the retry is new work and finds none.
      expect(refusal(await retry(jobId))).toBe('429 JOB_QUOTA_EXCEEDED');
    });
  });

  describe('hostile ids', () => {
    it.each(['cancel', 'retry'])('answers %s of BullMQ\'s own key names with 404, of another user\'s job with 404 and of a huge id with 400', async (action) => {
      await setUp();
      const jobId = await submit({ durationMs: 1 });
      for (const id of ['meta', 'events', 'id', 'wait', 'stalled-check']) {
        const res = await http('POST', `${api.url}/api/jobs/${id}/${action}`, {}, root);
        expect({ id, answer: refusal(res) }).toEqual({ id, answer: '404 JOB_NOT_FOUND' });
      }
      expect(refusal(await http('POST', `${api.url}/api/jobs/${jobId}/${action}`, {}, mallory))).toBe('404 JOB_NOT_FOUND');
      expect(refusal(await http('POST', `${api.url}/api/jobs/${'a'.repeat(5_000)}/${action}`, {}, alice))).toBe('400 INVALID_JOB_ID');
      // Nothing was touched: the queue still has its own keys and alice her job.
      expect(await redis.type(`${env.QUEUE_PREFIX}:jobs:meta`)).toBe('hash');
      expect((await http('GET', `${api.url}/api/jobs/${jobId}`, undefined, alice)).body.state).toBe('waiting');
    });
  });

  describe('admin browse', () => {
    const browse = (query: string, headers = root) => http('GET', `${api.url}/api/admin/jobs${query}`, undefined, headers);

    /** Every page of one state, `limit` at a time. */
    const allPages = async (state: string, limit: number): Promise<AdminJobListResponse['jobs'][]> => {
      const pages: AdminJobListResponse['jobs'][] = [];
      let cursor: string | null = null;
      do {
        const res = await browse(`?state=${state}&limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
        expect(res.status).toBe(200);
        const page = adminJobListResponseSchema.parse(res.body);
        pages.push(page.jobs);
        cursor = page.nextCursor;
        if (pages.length > 50) throw new Error('the pages never end');
      } while (cursor !== null);
      return pages;
    };

    it('lists every user\'s waiting jobs newest first, a page at a time, with owner, type and times', async () => {
      await setUp();
      const ids: string[] = [];
      for (const headers of [alice, mallory, alice, mallory, alice]) ids.push(await submit({ durationMs: 1 }, headers));
      const pages = await allPages('waiting', 2);
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      const rows = pages.flat();
      expect(rows.map((row) => row.jobId)).toEqual([...ids].reverse());
      expect(rows.map((row) => row.owner)).toEqual(['alice', 'mallory', 'alice', 'mallory', 'alice']);
      expect(rows[0]).toMatchObject({ type: 'demo.work', state: 'waiting', attemptsMade: 0 });
      expect(Date.parse(rows[0]?.createdAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    });

    it('lists failed jobs newest first with their attempts and reason, and completed jobs with their times', async () => {
      await setUp();
      await worker();
      const failed = [await submit({ durationMs: 1, failAttempts: 3 }), await submit({ durationMs: 1, failAttempts: 3 }, mallory)];
      const done = await submit({ durationMs: 1 });
      for (const jobId of failed) await waitForState(jobId, 'failed');
      await waitForState(done, 'completed');
      const rows = (await allPages('failed', 1)).flat();
      expect(new Set(rows.map((row) => row.jobId))).toEqual(new Set(failed));
      const times = rows.map((row) => Date.parse(row.finishedAt ?? ''));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(rows[0]).toMatchObject({ state: 'failed', attemptsMade: 3, failedReason: expect.stringContaining('on purpose') });
      const completed = (await allPages('completed', 20)).flat();
      expect(completed).toHaveLength(1);
      expect(completed[0]).toMatchObject({ jobId: done, owner: 'alice', startedAt: expect.any(String), finishedAt: expect.any(String) });
    });

    it('lists under cancelled only the failed jobs a cancel stopped, newest first, a page at a time', async () => {
      await setUp();
      await worker();
      const failed = await submit({ durationMs: 1, failAttempts: 3 });
      await waitForState(failed, 'failed');
      const cancelled: string[] = [];
      for (const headers of [alice, mallory]) {
        const jobId = await submit({ durationMs: 30_000, steps: 30 }, headers);
        await waitForState(jobId, 'active');
        expect((await cancel(jobId, root)).status).toBe(202);
        await waitForState(jobId, 'failed');
        cancelled.push(jobId);
      }
      const pages = await allPages('cancelled', 1);
      expect(pages.flat().map((row) => row.jobId)).toEqual([...cancelled].reverse());
      expect(pages.flat().map((row) => [row.state, row.owner, row.cancelledBy])).toEqual([
        ['cancelled', 'mallory', 'admin'],
        ['cancelled', 'alice', 'admin'],
      ]);
      // The failed set holds all three; the plain failure is listed there, not here.
      expect((await allPages('failed', 20)).flat().map((row) => row.jobId)).toEqual(expect.arrayContaining([failed, ...cancelled]));
    });

    it('refuses a state it does not know, a limit out of bounds, an unknown parameter and a cursor it did not give out', async () => {
      await setUp();
      for (const query of ['', '?state=meta', '?state=waiting&limit=0', '?state=waiting&limit=101', '?state=waiting&limit=abc', '?state=waiting&owner=alice']) {
        expect({ query, answer: refusal(await browse(query)) }).toEqual({ query, answer: '400 VALIDATION_FAILED' });
      }
      expect(refusal(await browse(`?state=completed&cursor=${'x'.repeat(150)}`))).toBe('400 INVALID_CURSOR');
      expect(refusal(await browse('?state=waiting', alice))).toBe('403 FORBIDDEN');
    });
  });

  describe('admin clean', () => {
    const clean = (body: unknown, headers = root) => http('POST', `${api.url}/api/admin/jobs/clean`, body, headers);

    it('removes finished jobs older than the age with their history and index entries, and keeps younger ones', async () => {
      await setUp();
      await worker();
      const old = [await submit({ durationMs: 1 }), await submit({ durationMs: 1 }, mallory)];
      for (const jobId of old) await waitForState(jobId, 'completed', 15_000);
      const keys = keysFor(env);
      const finishedHistory = async (id: string) => (await readHistory(redis, keys, id)).last?.event === 'completed';
      await waitUntil('the histories', async () => (await Promise.all(old.map(finishedHistory))).every(Boolean));
      expect(cleanJobsResponseSchema.parse((await clean({ state: 'completed', olderThanSeconds: 3_600 })).body)).toEqual({ state: 'completed', removed: 0 });

      const res = await clean({ state: 'completed', olderThanSeconds: 0, limit: 10 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ state: 'completed', removed: 2 });
      expect(await redis.exists(...old.map((id) => keys.history(id)), ...old.map((id) => keys.job(id)))).toBe(0);
      for (const id of old) expect((await readHistory(redis, keys, id)).events).toEqual([]);
      expect(await redis.zscore(keys.userJobs('alice'), old[0] as string)).toBeNull();
      expect(await redis.zscore(keys.userJobs('mallory'), old[1] as string)).toBeNull();
      expect((await http('GET', `${api.url}/api/jobs/${old[0]}`, undefined, alice)).status).toBe(404);
      expect((await http('GET', `${api.url}/api/jobs`, undefined, alice)).body.jobs).toEqual([]);
    });

    it('removes no more than the limit, oldest first, and leaves the other state alone', async () => {
      await setUp();
      await worker();
      const ids = [];
      for (let i = 0; i < 3; i += 1) {
        ids.push(await submit({ durationMs: 1 }));
        await waitForState(ids[i] as string, 'completed');
      }
      const failed = await submit({ durationMs: 1, failAttempts: 3 });
      await waitForState(failed, 'failed');
      expect((await clean({ state: 'completed', olderThanSeconds: 0, limit: 2 })).body).toEqual({ state: 'completed', removed: 2 });
      expect((await http('GET', `${api.url}/api/jobs/${ids[2]}`, undefined, alice)).body.state).toBe('completed');
      expect((await http('GET', `${api.url}/api/jobs/${ids[0]}`, undefined, alice)).status).toBe(404);
      expect((await http('GET', `${api.url}/api/jobs/${failed}`, undefined, alice)).body.state).toBe('failed');
    });

    it('refuses absurd ages, limits and states with 400 VALIDATION_FAILED, and non-admins with 403', async () => {
      await setUp();
      const bodies = [
        {},
        { state: 'active', olderThanSeconds: 0 },
        { state: 'waiting', olderThanSeconds: 0 },
        { state: 'completed', olderThanSeconds: -1 },
        { state: 'completed', olderThanSeconds: 1e12 },
        { state: 'completed', olderThanSeconds: 1.5 },
        { state: 'completed', olderThanSeconds: '3600' },
        { state: 'completed', olderThanSeconds: 0, limit: 0 },
        { state: 'completed', olderThanSeconds: 0, limit: 1e9 },
        { state: 'completed', olderThanSeconds: 0, extra: true },
        [],
      ];
      for (const body of bodies) expect({ body, answer: refusal(await clean(body)) }).toEqual({ body, answer: '400 VALIDATION_FAILED' });
      expect(refusal(await clean({ state: 'completed', olderThanSeconds: 0 }, alice))).toBe('403 FORBIDDEN');
    });
  });
});
