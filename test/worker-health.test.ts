import { setTimeout as sleep } from 'node:timers/promises';
import { http } from '../test-support/http';
import { freePort, startRedisServer, type RedisProcess } from '../test-support/redis-server';
import { cleanupPrefix, startApi, startWorker, testEnv } from '../test-support/services';

async function health(port: number, path: '/healthz' | '/readyz'): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.json() };
}

async function readyzUntil(port: number, status: number): Promise<{ status: number; body: any }> {
  let last = await health(port, '/readyz');
  for (let i = 0; i < 100 && last.status !== status; i += 1) {
    await sleep(100);
    last = await health(port, '/readyz');
  }
  return last;
}

describe('worker health endpoints', () => {
  it('answers /healthz 200 and /readyz 200 on the metrics port of a running worker', async () => {
    const env = testEnv({ WORKER_METRICS_PORT: String(await freePort()), WORKER_METRICS_HOST: '127.0.0.1' });
    const worker = await startWorker(env);
    try {
      const port = worker.operations.metricsPort()!;
      expect(await health(port, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await health(port, '/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    } finally {
      await worker.close();
      await cleanupPrefix(env.REDIS_URL, env.QUEUE_PREFIX);
    }
  });

  it('answers 404 NOT_FOUND to other methods and paths on the metrics port', async () => {
    const env = testEnv({ WORKER_METRICS_PORT: String(await freePort()), WORKER_METRICS_HOST: '127.0.0.1' });
    const worker = await startWorker(env);
    try {
      const base = `http://127.0.0.1:${worker.operations.metricsPort()!}`;
      const requests: [string, string][] = [['POST', '/readyz'], ['DELETE', '/healthz'], ['GET', '/readyz/../admin'], ['GET', `/${'x'.repeat(10_000)}`]];
      for (const [method, path] of requests) {
        const res = await fetch(`${base}${path}`, { method });
        expect([method, path.slice(0, 20), res.status, ((await res.json()) as { code?: string }).code]).toEqual([method, path.slice(0, 20), 404, 'NOT_FOUND']);
      }
    } finally {
      await worker.close();
      await cleanupPrefix(env.REDIS_URL, env.QUEUE_PREFIX);
    }
  });

  describe('with a Redis the test owns', () => {
    let redis: RedisProcess;
    beforeAll(async () => {
      redis = await startRedisServer();
    });
    afterAll(async () => {
      await redis?.destroy();
    });

    it('answers /readyz 503 REDIS_UNAVAILABLE while Redis is unreachable and 200 again once it returns, /healthz 200 throughout', async () => {
      const env = testEnv({ REDIS_URL: redis.url, WORKER_METRICS_PORT: String(await freePort()), WORKER_METRICS_HOST: '127.0.0.1' });
      const worker = await startWorker(env);
      const port = worker.operations.metricsPort()!;
      try {
        expect((await health(port, '/readyz')).status).toBe(200);
        await redis.stop(true);
        expect(await readyzUntil(port, 503)).toEqual({ status: 503, body: { code: 'REDIS_UNAVAILABLE', error: expect.any(String) } });
        expect((await health(port, '/healthz')).status).toBe(200);
        await redis.restart();
        expect(await readyzUntil(port, 200)).toEqual({ status: 200, body: { status: 'ready' } });
      } finally {
        await worker.close();
      }
    });
  });

  it('answers /readyz 503 SHUTTING_DOWN while it waits for an active job during shutdown', async () => {
    const env = testEnv({ WORKER_METRICS_PORT: String(await freePort()), WORKER_METRICS_HOST: '127.0.0.1' });
    const api = await startApi(env);
    const worker = await startWorker(env);
    try {
      const port = worker.operations.metricsPort()!;
      const accepted = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 2_000, steps: 2 } });
      expect(accepted.status).toBe(202);
      let state = '';
      for (let i = 0; i < 100 && state !== 'active'; i += 1) {
        await sleep(50);
        state = (await http('GET', `${api.url}/api/jobs/${accepted.body.jobId}`)).body.state;
      }
      expect(state).toBe('active');
      const closed = worker.close();
      expect(await health(port, '/readyz')).toEqual({ status: 503, body: { code: 'SHUTTING_DOWN', error: expect.any(String) } });
      expect((await health(port, '/healthz')).status).toBe(200);
      await closed;
    } finally {
      await worker.close();
      await api.close();
      await cleanupPrefix(env.REDIS_URL, env.QUEUE_PREFIX);
    }
  });
});
