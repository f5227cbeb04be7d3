import type { ApiServer } from '@jobstream/api';
import type { MetricsService } from '@jobstream/metrics';
import type { WorkerService } from '@jobstream/worker';
import type { Redis } from 'ioredis';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBreakerProvider } from '../services/worker/src/flashcards/breaker-provider';
import { ProviderError } from '../services/worker/src/flashcards/provider-error';
import type { FlashcardsProvider } from '../services/worker/src/flashcards/provider';
import { http } from '../test-support/http';
import { freePort } from '../test-support/redis-server';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { alertsOf, FLASHCARDS_BODY, startMetrics, systemEvents, testRedis, waitFor } from './operations-helpers';

/** A local OpenAI-compatible endpoint whose answer the test chooses. */
async function fakeProvider(): Promise<{ server: Server; url: string; calls: () => number; answer: (status: number) => void }> {
  let status = 503;
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls += 1;
      if (status !== 200) {
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: `fake ${status}` } }));
        return;
      }
      const content = JSON.stringify({ flashcards: [{ front: 'What do plants turn light into?', back: 'Chemical energy' }] });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({ choices: [{ message: { content } }], usage: { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 } }),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    calls: () => calls,
    answer: (s) => (status = s),
  };
}

const input = { content: 'x', subject: 's', topic: 't', count: 1 };
const failing = (err: Error): FlashcardsProvider => ({ name: 'fake', generate: async () => Promise.reject(err) });

describe('circuit breaker around the flashcards provider', () => {
  it('opens on retryable provider failures and then fails fast as PROVIDER_UNAVAILABLE', async () => {
    const changes: string[] = [];
    const provider = createBreakerProvider(failing(new ProviderError('PROVIDER_UNAVAILABLE', 'HTTP 503')), {
      name: 'test',
      errorThresholdPercentage: 50,
      volumeThreshold: 2,
      resetTimeoutMs: 60_000,
      rollingWindowMs: 10_000,
      onStateChange: ({ from, to, failures }) => changes.push(`${from}->${to}:${failures}`),
    });
    for (let i = 0; i < 2; i += 1) await expect(provider.generate(input, new AbortController().signal)).rejects.toThrow('HTTP 503');
    expect(provider.state()).toBe('open');
    expect(changes).toEqual(['closed->open:2']);
    await expect(provider.generate(input, new AbortController().signal)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, message: expect.stringContaining('circuit breaker "test" is open') });
    provider.shutdown();
  });

  it('stays closed when the provider refuses requests (a 400), the content is unusable or the worker is stopping', async () => {
    for (const err of [
      new ProviderError('PROVIDER_REJECTED', 'HTTP 400'),
      new ProviderError('CONTENT_UNUSABLE', 'no sentences'),
      new ProviderError('PROVIDER_ABORTED', 'stopping'),
    ]) {
      const provider = createBreakerProvider(failing(err), { name: 'test', errorThresholdPercentage: 50, volumeThreshold: 1, resetTimeoutMs: 60_000, rollingWindowMs: 10_000 });
      for (let i = 0; i < 5; i += 1) await expect(provider.generate(input, new AbortController().signal)).rejects.toBe(err);
      expect(provider.state()).toBe('closed');
      provider.shutdown();
    }
  });

  describe('in a running worker', () => {
    let env: Record<string, string>;
    let api: (ApiServer & { url: string }) | undefined;
    let metrics: (MetricsService & { url: string }) | undefined;
    let worker: WorkerService | undefined;
    let fake: Awaited<ReturnType<typeof fakeProvider>>;
    let redis: Redis;

    beforeEach(async () => {
      fake = await fakeProvider();
      env = testEnv({
        FLASHCARDS_PROVIDER: 'openai',
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'sk-test',
        CIRCUIT_BREAKER_VOLUME: '2',
        CIRCUIT_BREAKER_RESET_MS: '1000',
        WORKER_HEARTBEAT_MS: '200',
        ALERT_EVAL_INTERVAL_MS: '200',
        WORKER_METRICS_PORT: String(await freePort()),
        WORKER_METRICS_HOST: '127.0.0.1',
      });
      redis = testRedis();
    });

    afterEach(async () => {
      await worker?.close();
      await metrics?.close();
      await api?.close();
      worker = metrics = api = undefined;
      fake.server.close();
      redis.disconnect();
      await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
    });

    it('raises circuitBreakerOpen, publishes circuit_breaker_state and shows the state as a metric; closes again once the provider answers', async () => {
      api = await startApi(env);
      worker = await startWorker(env);
      metrics = await startMetrics(env);
      const apiUrl = api.url;
      for (let i = 0; i < 2; i += 1) expect((await http('POST', `${apiUrl}/api/ai/generate-flashcards`, FLASHCARDS_BODY)).status).toBe(202);

      const alerts = await waitFor('circuitBreakerOpen', async () => {
        const a = await alertsOf(apiUrl);
        return a?.alerts.circuitBreakerOpen ? a : undefined;
      });
      expect(alerts.values.circuitBreakersOpen).toBe(1);
      const opened = (await systemEvents(redis, env)).find((e) => e.event === 'circuit_breaker_state');
      expect(opened?.data).toMatchObject({ breaker: 'flashcards-provider', from: 'closed', to: 'open', failures: 2, worker: worker.operations.workerId });
      const scrape = await http('GET', `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`);
      expect(scrape.body).toContain('jobstream_circuit_breaker_state{breaker="flashcards-provider",state="open"} 1');
      expect(scrape.body).toContain('jobstream_circuit_breaker_state{breaker="flashcards-provider",state="closed"} 0');

      // While open, retries fail without calling the provider.
      const callsWhileOpen = fake.calls();
      fake.answer(200);
      await waitFor('the breaker to close', async () => {
        const states = (await systemEvents(redis, env)).filter((e) => e.event === 'circuit_breaker_state').map((e) => (e.data as { to: string }).to);
        return states.at(-1) === 'closed' ? states : undefined;
      });
      expect(fake.calls()).toBeLessThanOrEqual(callsWhileOpen + 2);
      await waitFor('circuitBreakerOpen to resolve', async () => (await alertsOf(apiUrl))?.alerts.circuitBreakerOpen === false);
    });

    it('keeps the circuit closed when the provider answers 400', async () => {
      fake.answer(400);
      api = await startApi(env);
      worker = await startWorker(env);
      const apiUrl = api.url;
      const ids: string[] = [];
      for (let i = 0; i < 4; i += 1) ids.push((await http('POST', `${apiUrl}/api/ai/generate-flashcards`, FLASHCARDS_BODY)).body.jobId);
      for (const id of ids) await waitFor(`${id} to fail`, async () => (await http('GET', `${apiUrl}/api/jobs/${id}`)).body.state === 'failed');
      expect(fake.calls()).toBe(4);
      expect(worker.operations).toBeDefined();
      const scrape = await http('GET', `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`);
      expect(scrape.body).toContain('jobstream_circuit_breaker_state{breaker="flashcards-provider",state="closed"} 1');
      expect((await systemEvents(redis, env)).filter((e) => e.event === 'circuit_breaker_state')).toEqual([]);
    });
  });
});
