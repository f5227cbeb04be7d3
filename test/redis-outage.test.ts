import { setTimeout as sleep } from 'node:timers/promises';
import { http } from '../test-support/http';
import { startRedisServer, type RedisProcess } from '../test-support/redis-server';
import { connectSse } from '../test-support/sse-client';
import { spawnService, testEnv, type ServiceProcess } from '../test-support/services';
import { withDefaultAuth } from '../test-support/auth';

/** Redis goes away under a running api and worker, then comes back; nothing is restarted by hand. */
describe('when Redis is unreachable', () => {
  let redis: RedisProcess;
  let api: ServiceProcess;
  let worker: ServiceProcess;

  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: true });
    const env = testEnv({ REDIS_URL: redis.url });
    api = await spawnService('api', env);
    worker = await spawnService('worker', env);
  });

  afterAll(async () => {
    await Promise.all([api?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
    await redis?.destroy();
  });

  it('answers enqueues with 503 REDIS_UNAVAILABLE, keeps streams open, and recovers by itself', async () => {
    const base = api.url!;
    const accepted = await http('POST', `${base}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1_500, steps: 3 } });
    expect(accepted.status).toBe(202);
    const stream = await connectSse(`${base}/api/jobs/${accepted.body.jobId}/events`);
    await stream.waitFor((events) => events.some((e) => e.event === 'active'));

    await redis.stop(true);
    let streamEnded = false;
    void stream.ended.then(() => (streamEnded = true));

    const during = await http('POST', `${base}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } });
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ code: 'REDIS_UNAVAILABLE', error: expect.any(String) });
    expect(during.headers.get('retry-after')).toBeTruthy();
    expect((await http('GET', `${base}/api/jobs/${accepted.body.jobId}`)).status).toBe(503);
    expect((await http('GET', `${base}/readyz`)).status).toBe(503);
    expect((await http('GET', `${base}/healthz`)).status).toBe(200);
    // A browser's EventSource gives up on any non-200, so a stream request gets a retry hint instead.
    const sse = await fetch(`${base}/api/jobs/${accepted.body.jobId}/events`, { headers: await withDefaultAuth({ accept: 'text/event-stream' }) });
    expect(sse.status).toBe(200);
    expect(await sse.text()).toMatch(/^retry: \d+\n: REDIS_UNAVAILABLE/);
    await sleep(1_000);
    expect(streamEnded).toBe(false);

    await redis.restart();
    let after = during;
    for (let i = 0; i < 100 && after.status !== 202; i += 1) {
      await sleep(100);
      after = await http('POST', `${base}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } });
    }
    expect(after.status).toBe(202);
    expect((await http('GET', `${base}/readyz`)).status).toBe(200);

    // The job that was running when Redis went away still reaches its outcome on the open stream.
    await stream.ended;
    const lifecycle = stream.lifecycle();
    const ids = lifecycle.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(lifecycle.filter((e) => e.event === 'completed')).toHaveLength(1);
    expect(lifecycle.at(-1)?.event).toBe('completed');

    const next = await connectSse(`${base}/api/jobs/${after.body.jobId}/events`);
    await next.ended;
    expect(next.events.at(-1)?.event).toBe('completed');
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
  });
});
