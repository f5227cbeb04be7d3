import type { ApiServer } from '@jobstream/api';
import { apiErrorBodySchema, jobListResponseSchema, type JobListResponse } from '@jobstream/contracts';
import { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { authHeaders, DEFAULT_TEST_USER } from '../test-support/auth';
import { http } from '../test-support/http';
import { requestOnce } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisClient, testRedisUrl, type TestEnv } from '../test-support/services';
import { keysFor } from './notifications-helpers';

/*
 * GET /api/jobs against a real api and Redis. No worker: submitted jobs stay `waiting`, which is
 * all a listing needs (and keeps their order the order of submission).
 */
describe('GET /api/jobs', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };

  beforeEach(async () => {
    env = testEnv();
    api = await startApi(env);
  });

  afterEach(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  const demo = (extra: Record<string, unknown> = {}) => ({ type: 'demo.work', payload: { durationMs: 1 }, ...extra });

  /** Submits as `headers` (default: the default test user) and returns the job id. */
  const submit = async (headers: Record<string, string> = {}, body: unknown = demo()): Promise<string> => {
    const res = await http('POST', `${api.url}/api/jobs`, body, headers);
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  };

  /** `n` jobs, each in a later millisecond than the one before; oldest first. */
  const submitInOrder = async (n: number, headers: Record<string, string> = {}): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1) {
      ids.push(await submit(headers));
      await sleep(3);
    }
    return ids;
  };

  const list = async (query = '', headers: Record<string, string> = {}) => http('GET', `${api.url}/api/jobs${query}`, undefined, headers);

  /** Every page from the first, `limit` at a time: the ids of each page. */
  const allPages = async (limit: number, headers: Record<string, string> = {}): Promise<string[][]> => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await list(`?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, headers);
      expect(res.status).toBe(200);
      const page: JobListResponse = jobListResponseSchema.parse(res.body);
      pages.push(page.jobs.map((job) => job.jobId));
      cursor = page.nextCursor;
      if (pages.length > 50) throw new Error('the pages never end');
    } while (cursor !== null);
    return pages;
  };

  it("pages the caller's jobs newest first with an opaque cursor, each job once", async () => {
    const submitted = await submitInOrder(7);

    const pages = await allPages(3);
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([...submitted].reverse());

    const first = await list();
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body.nextCursor).toBeNull();
    expect(first.body.jobs).toHaveLength(7);
    expect(first.body.jobs[0]).toMatchObject({ jobId: submitted[6], type: 'demo.work', state: 'waiting', attemptsMade: 0, progress: 0 });

    // An exact page size ends without a further (empty) page.
    expect((await allPages(7)).map((page) => page.length)).toEqual([7]);
  });

  it('pages jobs created in the same millisecond without a gap or a duplicate', async () => {
    const submitted = await Promise.all(Array.from({ length: 5 }, () => submit()));
    // Five submissions rarely share one millisecond on their own: give them the same creation time.
    const redis = testRedisClient();
    try {
      const key = keysFor(env).userJobs(DEFAULT_TEST_USER);
      const sameMs = Date.now() - 1_000;
      for (const jobId of submitted) await redis.zadd(key, 'XX', sameMs, jobId);
      const newer = await submit();

      const pages = await allPages(2);
      expect(pages.map((page) => page.length)).toEqual([2, 2, 2]);
      // The same millisecond sorts by id, descending.
      expect(pages.flat()).toEqual([newer, ...[...submitted].sort().reverse()]);
    } finally {
      redis.disconnect();
    }
  });

  it("never lists another user's jobs, also not to an admin: the route is the caller's own jobs", async () => {
    const alice = await authHeaders('alice');
    const mallory = await authHeaders('mallory');
    const root = await authHeaders('root', ['admin']);
    const alices = await submitInOrder(2, alice);
    const mallorys = await submit(mallory);
    const roots = await submit(root);

    expect((await allPages(20, alice)).flat()).toEqual([...alices].reverse());
    expect((await allPages(20, mallory)).flat()).toEqual([mallorys]);
    expect((await allPages(20, root)).flat()).toEqual([roots]);
    expect((await allPages(20, await authHeaders('nobody'))).flat()).toEqual([]);
  });

  it('lists an idempotent resubmission once, in the place of the first submission', async () => {
    const first = await submit({}, demo({ idempotencyKey: 'order-42' }));
    await sleep(3);
    const later = await submit();
    await sleep(3);
    const again = await http('POST', `${api.url}/api/jobs`, demo({ idempotencyKey: 'order-42' }));
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.jobId).toBe(first);

    expect((await allPages(20)).flat()).toEqual([later, first]);
  });

  it('leaves out a job BullMQ removed, and drops it from the index', async () => {
    const [oldest, removed, newest] = await submitInOrder(3);
    const redis = testRedisClient();
    const queue = new Queue('jobs', { connection: redis, prefix: env.QUEUE_PREFIX });
    try {
      await queue.remove(removed!);
      expect((await http('GET', `${api.url}/api/jobs/${removed}`)).status).toBe(404);

      const res = await list('?limit=2');
      expect(res.status).toBe(200);
      // The page read two entries and one was gone: a shorter page, and the rest still follows.
      expect(res.body.jobs.map((job: { jobId: string }) => job.jobId)).toEqual([newest]);
      expect(res.body.nextCursor).not.toBeNull();
      expect((await allPages(2)).flat()).toEqual([newest, oldest]);
      expect(await redis.zrange(keysFor(env).userJobs(DEFAULT_TEST_USER), 0, -1)).toEqual([oldest, newest]);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('bounds the index on each write: entries older than the retention go, and the key expires with the retention', async () => {
    const redis = testRedisClient();
    try {
      const key = keysFor(env).userJobs(DEFAULT_TEST_USER);
      const retentionMs = 86_400_000;
      await redis.zadd(key, Date.now() - retentionMs - 60_000, 'expired-job', Date.now() - retentionMs + 60_000, 'recent-job');
      const jobId = await submit();
      expect(await redis.zrange(key, 0, -1)).toEqual(['recent-job', jobId]);
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(86_400 - 60);
      expect(ttl).toBeLessThanOrEqual(86_400);
      // The recent entry's job never existed: the listing skips it and drops it.
      expect((await allPages(20)).flat()).toEqual([jobId]);
      expect(await redis.zrange(key, 0, -1)).toEqual([jobId]);
    } finally {
      redis.disconnect();
    }
  });

  it('still answers 202 when the job cannot be added to the index, and the job exists', async () => {
    const redis = testRedisClient();
    try {
      // A key of the wrong type makes every index command fail, as a broken index would.
      await redis.set(keysFor(env).userJobs('carol'), 'not a sorted set');
      const carol = await authHeaders('carol');
      const res = await http('POST', `${api.url}/api/jobs`, demo(), carol);
      expect(res.status).toBe(202);
      expect((await http('GET', `${api.url}/api/jobs/${res.body.jobId}`, undefined, carol)).body).toMatchObject({ jobId: res.body.jobId, state: 'waiting' });
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a bad limit with 400 VALIDATION_FAILED and a cursor it did not give out with 400 INVALID_CURSOR', async () => {
    const [, second] = await submitInOrder(3);
    const good = (await list('?limit=1')).body.nextCursor as string;
    const goodPosition = Buffer.from(good, 'base64url').toString('utf8');
    const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

    const expectOutcome = async (query: string, want: string): Promise<void> => {
      const res = await list(query);
      if (res.status >= 400) apiErrorBodySchema.parse(res.body);
      expect({ query, got: `${res.status}${res.body?.code ? ` ${res.body.code}` : ''}` }).toEqual({ query, got: want });
    };
    for (const query of ['?limit=0', '?limit=101', '?limit=-1', '?limit=1.5', '?limit=ten', '?limit=', '?limit=1&limit=2', '?cursor=', `?cursor=${good}&cursor=${good}`, '?page=2']) {
      await expectOutcome(query, '400 VALIDATION_FAILED');
    }
    for (const cursor of [
      'nonsense',
      b64('1700000000000'),
      b64(`1700000000000:${second}:x`),
      b64('1700000000000:../../etc'),
      b64(`-1:${second}`),
      b64(`0${goodPosition}`),
      `${good}=`,
      'x'.repeat(200),
    ]) {
      await expectOutcome(`?cursor=${encodeURIComponent(cursor)}`, '400 INVALID_CURSOR');
    }
    await expectOutcome('?limit=100', '200');
    await expectOutcome(`?limit=1&cursor=${good}`, '200');
    expect((await list(`?limit=1&cursor=${good}`)).body.jobs.map((job: { jobId: string }) => job.jobId)).toEqual([second]);
  });

  it('answers an anonymous caller 401 AUTH_REQUIRED', async () => {
    await submit();
    const res = await requestOnce('GET', `${api.url}/api/jobs`, { headers: { authorization: '' } });
    expect(`${res.status} ${res.body?.code}`).toBe('401 AUTH_REQUIRED');
    apiErrorBodySchema.parse(res.body);
  });
});
