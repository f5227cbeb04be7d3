import type { ApiServer } from '@jobstream/api';
import type { WorkerService } from '@jobstream/worker';
import { randomUUID } from 'node:crypto';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { startRedisServer, type RedisProcess } from '../test-support/redis-server';
import { connectSse, type SseConnection } from '../test-support/sse-client';
import { cleanupPrefix, spawnService, startApi, startWorker, testEnv, testRedisUrl, type ServiceProcess } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

type Api = ApiServer & { url: string };

/** A job nobody runs (no worker in these suites): its stream stays open until the client leaves. */
async function waitingJob(api: Api, user: string): Promise<string> {
  const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } }, await authHeaders(user));
  expect(res.status).toBe(202);
  return res.body.jobId as string;
}

async function openStream(api: Api, user: string, jobId: string): Promise<SseConnection> {
  return connectSse(`${api.url}/api/jobs/${jobId}/events`, await authHeaders(user));
}

/** Opens a stream and waits for its `connected` event; fails if the stream was refused. */
async function openConnected(api: Api, user: string, jobId: string): Promise<SseConnection> {
  const stream = await openStream(api, user, jobId);
  expect(stream.status).toBe(200);
  await stream.waitFor((events) => events.some((e) => e.event === 'connected'));
  return stream;
}

/** Retries until a stream is admitted (the slot given back reaches Redis a moment after the client sees the end). */
async function eventuallyOpen(api: Api, user: string, jobId: string, timeoutMs = 3_000): Promise<SseConnection> {
  return waitUntil(
    `a stream for ${user} to be admitted`,
    async () => {
      const stream = await openStream(api, user, jobId);
      if (stream.status === 200) return stream;
      stream.close();
      return false;
    },
    timeoutMs,
    50,
  );
}

describe('the per-user stream cap across replicas', () => {
  let env: Record<string, string>;
  let replicas: Api[] = [];
  const streams: SseConnection[] = [];

  beforeAll(async () => {
    // A long lease TTL: a slot that comes back within these tests was given back, it did not lapse.
    env = testEnv({ MAX_STREAMS_PER_USER: '2', STREAM_LEASE_TTL_MS: '30000' });
    replicas = [await startApi(env), await startApi(env)];
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  afterAll(async () => {
    await Promise.all(replicas.map((api) => api.close()));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const [a, b] = [() => replicas[0]!, () => replicas[1]!];

  it('answers the stream over the cap with 429 TOO_MANY_STREAMS and Retry-After, whichever replica holds the others', async () => {
    const alice = `alice-${randomUUID()}`;
    const jobId = await waitingJob(a(), alice);
    streams.push(await openConnected(a(), alice, jobId), await openConnected(b(), alice, jobId));

    for (const replica of [a(), b()]) {
      const refused = await http('GET', `${replica.url}/api/jobs/${jobId}/events`, undefined, {
        ...(await authHeaders(alice)),
        accept: 'text/event-stream',
      });
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ code: 'TOO_MANY_STREAMS', error: expect.stringContaining('At most 2 streams') });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(30);
    }
    // The alias route takes from the same cap.
    expect((await http('GET', `${a().url}/api/job-events?jobId=${jobId}`, undefined, await authHeaders(alice))).status).toBe(429);
    // A request that is wrong in itself is answered for what is wrong with it, at the cap too.
    const badCursor = await http('GET', `${a().url}/api/jobs/${jobId}/events?lastEventId=not-a-cursor`, undefined, await authHeaders(alice));
    expect(`${badCursor.status} ${badCursor.body.code}`).toBe('400 INVALID_LAST_EVENT_ID');
  });

  it('leaves other users alone when one user is at the cap', async () => {
    const [carol, dave] = [`carol-${randomUUID()}`, `dave-${randomUUID()}`];
    const carolJob = await waitingJob(a(), carol);
    streams.push(await openConnected(a(), carol, carolJob), await openConnected(b(), carol, carolJob));
    const daveJob = await waitingJob(b(), dave);
    streams.push(await openConnected(a(), dave, daveJob), await openConnected(b(), dave, daveJob));
  });

  it('gives the slot back when the client goes away, so a new stream opens at once', async () => {
    const erin = `erin-${randomUUID()}`;
    const jobId = await waitingJob(a(), erin);
    const first = await openConnected(a(), erin, jobId);
    streams.push(first, await openConnected(b(), erin, jobId));
    expect((await openStream(b(), erin, jobId)).status).toBe(429);

    first.close();
    streams.push(await eventuallyOpen(b(), erin, jobId));
    expect((await openStream(a(), erin, jobId)).status).toBe(429);
  });

  it('gives the slot back when the request is answered without a stream (unknown job)', async () => {
    const frank = `frank-${randomUUID()}`;
    for (let i = 0; i < 5; i += 1) {
      const res = await http('GET', `${a().url}/api/jobs/no-such-job-${i}/events`, undefined, await authHeaders(frank));
      expect(res.status).toBe(404);
    }
    const jobId = await waitingJob(a(), frank);
    // Each refused request gave its slot back before its answer was complete, or nearly: allow the ZREM to land.
    streams.push(await eventuallyOpen(a(), frank, jobId), await eventuallyOpen(b(), frank, jobId));
  });

  it('gives back the slots of a replica that shuts down, without waiting for their leases to lapse', async () => {
    const gina = `gina-${randomUUID()}`;
    const leaving = await startApi(env);
    const jobId = await waitingJob(leaving, gina);
    const held = [await openConnected(leaving, gina, jobId), await openConnected(leaving, gina, jobId)];
    expect((await openStream(a(), gina, jobId)).status).toBe(429);

    await leaving.close();
    await Promise.all(held.map((s) => s.ended));
    streams.push(await openConnected(a(), gina, jobId), await openConnected(b(), gina, jobId));
  });
});

describe('a stream that ends with its terminal event', () => {
  let env: Record<string, string>;
  let api: Api;
  let worker: WorkerService;

  beforeAll(async () => {
    env = testEnv({ MAX_STREAMS_PER_USER: '1', STREAM_LEASE_TTL_MS: '30000' });
    api = await startApi(env);
    worker = await startWorker(env);
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('gives its slot back, so the user can watch the next job', async () => {
    const hana = `hana-${randomUUID()}`;
    const submitted = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 500 } }, await authHeaders(hana));
    const first = await openConnected(api, hana, submitted.body.jobId as string);
    await first.ended;
    expect(first.lifecycle().at(-1)?.event).toBe('completed');

    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 300 } }, await authHeaders(hana));
    const next = await eventuallyOpen(api, hana, res.body.jobId as string);
    await next.ended;
    expect(next.lifecycle().at(-1)?.event).toBe('completed');
  });
});

describe('the slots of a replica that crashed', () => {
  let env: Record<string, string>;
  let crashing: ServiceProcess | undefined;
  let survivor: Api;

  beforeAll(async () => {
    env = testEnv({ MAX_STREAMS_PER_USER: '1', STREAM_LEASE_TTL_MS: '1000' });
    survivor = await startApi(env);
  });

  afterAll(async () => {
    await crashing?.stop('SIGKILL');
    await survivor.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('count until their leases lapse, then come back to their users', async () => {
    const ivan = `ivan-${randomUUID()}`;
    // Its own OS process, so it can be killed with no chance to give anything back.
    crashing = await spawnService('api', env);
    const jobId = await waitingJob(survivor, ivan);
    const held = await connectSse(`${crashing.url!}/api/jobs/${jobId}/events`, await authHeaders(ivan));
    expect(held.status).toBe(200);
    await held.waitFor((events) => events.some((e) => e.event === 'connected'));

    await crashing.stop('SIGKILL');
    const killedAt = Date.now();
    expect((await openStream(survivor, ivan, jobId)).status).toBe(429);
    const stream = await eventuallyOpen(survivor, ivan, jobId, 5_000);
    // One lease TTL (1 s) after its last renewal, plus polling: far sooner than "never".
    expect(Date.now() - killedAt).toBeLessThan(3_000);
    stream.close();
  });
});

describe('the per-process stream cap', () => {
  let env: Record<string, string>;
  let api: Api;

  beforeAll(async () => {
    env = testEnv({ MAX_STREAMS_PER_PROCESS: '1', MAX_STREAMS_PER_USER: '5' });
    api = await startApi(env);
  });

  afterAll(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('answers 503 SERVER_BUSY with Retry-After once the process holds its maximum, whoever asks', async () => {
    const [jane, kim] = [`jane-${randomUUID()}`, `kim-${randomUUID()}`];
    const janeJob = await waitingJob(api, jane);
    const kimJob = await waitingJob(api, kim);
    const held = await openConnected(api, jane, janeJob);

    const busy = await http('GET', `${api.url}/api/jobs/${kimJob}/events`, undefined, { ...(await authHeaders(kim)), accept: 'text/event-stream' });
    expect(busy.status).toBe(503);
    expect(busy.body.code).toBe('SERVER_BUSY');
    expect(busy.headers.get('retry-after')).toBe('5');

    held.close();
    const admitted = await eventuallyOpen(api, kim, kimJob);
    admitted.close();
  });
});

describe('stream slots while Redis is unreachable', () => {
  let redis: RedisProcess;
  let api: Api;

  beforeAll(async () => {
    redis = await startRedisServer();
    api = await startApi(testEnv({ REDIS_URL: redis.url, MAX_STREAMS_PER_PROCESS: '1' }));
  });

  afterAll(async () => {
    await api?.close();
    await redis?.destroy();
  });

  it('answers an EventSource with the retry hint (never a 500) and holds no slot for it', async () => {
    const lena = `lena-${randomUUID()}`;
    const jobId = await waitingJob(api, lena);
    await redis.stop(true);
    try {
      for (let i = 0; i < 3; i += 1) {
        const res = await fetch(`${api.url}/api/jobs/${jobId}/events`, { headers: { ...(await authHeaders(lena)), accept: 'text/event-stream' } });
        expect(res.status).toBe(200);
        expect(await res.text()).toMatch(/^retry: \d+\n: REDIS_UNAVAILABLE/);
      }
      const plain = await http('GET', `${api.url}/api/jobs/${jobId}/events`, undefined, { ...(await authHeaders(lena)), accept: 'application/json' });
      expect(plain.status).toBe(503);
      expect(plain.body.code).toBe('REDIS_UNAVAILABLE');
    } finally {
      // Also when an expectation failed: an api cannot shut down cleanly while its Redis is away.
      await redis.restart();
    }

    // The process cap is 1: had a refused request kept its slot, this would be 503 SERVER_BUSY for good.
    const jobAfter = await waitUntil('an enqueue after the restart', async () => {
      const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } }, await authHeaders(lena));
      return res.status === 202 && (res.body.jobId as string);
    });
    const stream = await eventuallyOpen(api, lena, jobAfter);
    stream.close();
  });
});
