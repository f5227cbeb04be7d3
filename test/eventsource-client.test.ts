import { EventSource } from 'eventsource';
import { DEFAULT_TEST_USER, tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { freePort } from '../test-support/redis-server';
import { cleanupPrefix, spawnService, testEnv, testRedisUrl, type ServiceProcess } from '../test-support/services';

/** A standard WHATWG EventSource client, as a browser would run it, across an api crash. */
describe('a standard EventSource client', () => {
  const env = testEnv();
  const started: ServiceProcess[] = [];

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop('SIGKILL')));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('reconnects by itself after the api process dies and receives every event exactly once', async () => {
    const port = String(await freePort());
    const api = await spawnService('api', { ...env, PORT: port, SSE_RETRY_MS: '200' });
    started.push(api, await spawnService('worker', env));
    const base = api.url!;
    const job = await http('POST', `${base}/api/jobs`, { type: 'demo.work', payload: { durationMs: 2_000, steps: 10 } });

    const received: { type: string; id: string }[] = [];
    let connects = 0;
    // A browser's EventSource cannot send headers: the short-lived token goes in access_token.
    const token = await tokenFor(DEFAULT_TEST_USER, [], { expiresIn: '10m' });
    const source = new EventSource(`${base}/api/jobs/${job.body.jobId}/events?access_token=${token}`);
    const done = new Promise<void>((resolve) => {
      for (const type of ['waiting', 'active', 'progress', 'completed', 'failed']) {
        source.addEventListener(type, (e) => {
          received.push({ type, id: e.lastEventId });
          if (type === 'completed') {
            source.close();
            resolve();
          }
        });
      }
      source.addEventListener('connected', () => (connects += 1));
    });

    while (!received.some((e) => e.type === 'progress')) await new Promise((r) => setTimeout(r, 20));
    await api.stop('SIGKILL');
    started.push(await spawnService('api', { ...env, PORT: port, SSE_RETRY_MS: '200' }));
    await done;

    expect(connects).toBeGreaterThanOrEqual(2);
    expect(received.map((e) => e.type)).toEqual(['waiting', 'active', ...Array(10).fill('progress'), 'completed']);
    expect(new Set(received.map((e) => e.id)).size).toBe(received.length);
  });
});
