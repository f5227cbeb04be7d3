import type { ApiServer } from '@jobstream/api';
import { randomUUID } from 'node:crypto';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { startRedisServer, type RedisProcess } from '../test-support/redis-server';
import { cleanupPrefix, startApi, testEnv, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

type Api = ApiServer & { url: string };

const DEMO_JOB = { type: 'demo.work', payload: { durationMs: 10 } };
const FLASHCARDS_BODY = { content: 'Chlorophyll absorbs mostly blue and red light.', subject: 'Biology', topic: 'Plants', count: 1 };
const POINTS = 3;
const WINDOW_S = 60;

/** Two api replicas on one Redis, as two load-balanced instances would run. */
describe('per-user enqueue rate limit', () => {
  let env: Record<string, string>;
  let replicas: Api[] = [];

  beforeAll(async () => {
    env = testEnv({ RATE_LIMIT_ENQUEUE_POINTS: String(POINTS), RATE_LIMIT_ENQUEUE_WINDOW_S: String(WINDOW_S), BODY_LIMIT_BYTES: '2048' });
    replicas = [await startApi(env), await startApi(env)];
  });

  afterAll(async () => {
    await Promise.all(replicas.map((api) => api.close()));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const submit = async (replica: number, user: string, body: unknown = DEMO_JOB) =>
    http('POST', `${replicas[replica]!.url}/api/jobs`, body, await authHeaders(user));

  it('shares one allowance between replicas: the user over it gets 429 RATE_LIMITED, another user is unaffected', async () => {
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    // Alternating replicas: each replica alone has seen fewer submissions than the limit.
    const accepted = [await submit(0, alice), await submit(1, alice), await submit(0, alice)];
    expect(accepted.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(accepted.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);

    const refused = await submit(1, alice);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ code: 'RATE_LIMITED', error: expect.stringMatching(/try again in \d+ s/) });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
    expect(refused.headers.get('ratelimit-limit')).toBe(String(POINTS));
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('ratelimit-policy')).toBe(`${POINTS};w=${WINDOW_S}`);
    expect(Number(refused.headers.get('ratelimit-reset'))).toBe(retryAfter);
    // The replica that refused it answers from memory now; the other one asks Redis: both refuse.
    expect((await submit(0, alice)).status).toBe(429);
    expect((await submit(1, alice)).status).toBe(429);

    const other = await submit(1, bob);
    expect(other.status).toBe(202);
    expect(other.headers.get('ratelimit-remaining')).toBe(String(POINTS - 1));
  });

  it('counts the flashcards route against the same allowance', async () => {
    const carol = `carol-${randomUUID()}`;
    for (let i = 0; i < POINTS; i += 1) expect((await submit(i % 2, carol)).status).toBe(202);
    const flashcards = await http('POST', `${replicas[0]!.url}/api/ai/generate-flashcards`, FLASHCARDS_BODY, await authHeaders(carol));
    expect(flashcards.status).toBe(429);
    expect(flashcards.body.code).toBe('RATE_LIMITED');
  });

  it('charges no point for a request refused before it could become a job (invalid, malformed, oversize)', async () => {
    const dave = `dave-${randomUUID()}`;
    for (let i = 0; i < POINTS * 2; i += 1) {
      expect((await submit(0, dave, { type: 'no.such.type', payload: {} })).status).toBe(400);
      expect((await submit(1, dave, '{"type": ')).status).toBe(400);
    }
    const oversize = await submit(0, dave, { type: 'demo.work', payload: { durationMs: 1, result: 'x'.repeat(5_000) } });
    expect(oversize.status).toBe(413);
    expect(oversize.body.code).toBe('PAYLOAD_TOO_LARGE');
    const first = await submit(1, dave);
    expect(first.status).toBe(202);
    expect(first.headers.get('ratelimit-remaining')).toBe(String(POINTS - 1));
  });

  it('gives cancels an allowance of their own: past it 429 RATE_LIMITED, while submissions keep theirs', async () => {
    const heidi = await authHeaders(`heidi-${randomUUID()}`);
    const cancel = (replica: number, jobId: string) => http('POST', `${replicas[replica]!.url}/api/jobs/${jobId}/cancel`, {}, heidi);
    // Cancels of jobs that do not exist cost a point too: a loop of cancels must not be free.
    const unknown = randomUUID();
    const counted = [];
    for (let i = 0; i < POINTS; i += 1) counted.push(await cancel(i % 2, unknown));
    expect(counted.map((r) => `${r.status} ${r.body.code}`)).toEqual(Array.from({ length: POINTS }, () => '404 JOB_NOT_FOUND'));
    expect(counted.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);
    const refused = await cancel(0, unknown);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const submitted = await http('POST', `${replicas[1]!.url}/api/jobs`, DEMO_JOB, heidi);
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('ratelimit-remaining')).toBe(String(POINTS - 1));
  });

  it('starts a new window once the old one is over', async () => {
    const shortEnv = { ...env, RATE_LIMIT_ENQUEUE_POINTS: '1', RATE_LIMIT_ENQUEUE_WINDOW_S: '1' };
    const api = await startApi(shortEnv);
    try {
      const erin = await authHeaders(`erin-${randomUUID()}`);
      expect((await http('POST', `${api.url}/api/jobs`, DEMO_JOB, erin)).status).toBe(202);
      const refused = await http('POST', `${api.url}/api/jobs`, DEMO_JOB, erin);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      // Waiting as long as Retry-After says is enough.
      await new Promise((resolve) => setTimeout(resolve, Number(refused.headers.get('retry-after')) * 1_000));
      expect((await http('POST', `${api.url}/api/jobs`, DEMO_JOB, erin)).status).toBe(202);
    } finally {
      await api.close();
    }
  });

  it('is off with RATE_LIMIT_ENQUEUE_POINTS=0: no refusal, no RateLimit headers', async () => {
    const api = await startApi({ ...env, RATE_LIMIT_ENQUEUE_POINTS: '0' });
    try {
      const headers = await authHeaders(`gus-${randomUUID()}`);
      for (let i = 0; i < POINTS * 2; i += 1) {
        const res = await http('POST', `${api.url}/api/jobs`, DEMO_JOB, headers);
        expect(res.status).toBe(202);
        expect(res.headers.get('ratelimit-limit')).toBeNull();
      }
    } finally {
      await api.close();
    }
  });
});

describe('the enqueue rate limit while Redis is unreachable', () => {
  let redis: RedisProcess;
  let api: Api;

  beforeAll(async () => {
    redis = await startRedisServer();
    api = await startApi(testEnv({ REDIS_URL: redis.url, RATE_LIMIT_ENQUEUE_POINTS: '5' }));
  });

  afterAll(async () => {
    await api?.close();
    await redis?.destroy();
  });

  it('answers 503 REDIS_UNAVAILABLE with Retry-After, never a 500, and counts again once Redis is back', async () => {
    const headers = await authHeaders('frank');
    expect((await http('POST', `${api.url}/api/jobs`, DEMO_JOB, headers)).status).toBe(202);
    await redis.stop(true);
    for (let i = 0; i < 3; i += 1) {
      const res = await http('POST', `${api.url}/api/jobs`, DEMO_JOB, headers);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('REDIS_UNAVAILABLE');
      expect(res.headers.get('retry-after')).toBeTruthy();
    }
    await redis.restart();
    const after = await waitUntil('an enqueue accepted after the restart', async () => {
      const res = await http('POST', `${api.url}/api/jobs`, DEMO_JOB, headers);
      return res.status === 202 && res;
    });
    // A fresh Redis (no persistence here): the window starts over.
    expect(after.headers.get('ratelimit-remaining')).toBe('4');
  });
});
