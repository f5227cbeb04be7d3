import type { ApiServer } from '@jobstream/api';
import { webhookDeliveryListSchema, webhookPayloadSchema } from '@jobstream/contracts';
import { jobstreamKeys } from '@jobstream/runtime';
import { loadConfig as loadWorkerConfig, type WorkerService } from '@jobstream/worker';
import { Webhook } from 'standardwebhooks';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { freePort } from '../test-support/redis-server';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisClient, testRedisUrl, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { startReceiver, type Receiver } from '../test-support/webhook-receiver';

/** Short delays so that retries happen within a test; each test sets what it is about. */
const fastRetries = {
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_BACKOFF_BASE_MS: '100',
  WEBHOOK_BACKOFF_MAX_MS: '400',
  WEBHOOK_TIMEOUT_MS: '2000',
};

describe('webhook delivery', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };
  let workers: WorkerService[] = [];
  let receivers: Receiver[] = [];

  const start = async (overrides: Record<string, string> = {}, workerOverrides: Record<string, string> = {}) => {
    env = testEnv({ ...fastRetries, ...overrides });
    api = await startApi(env);
    workers.push(await startWorker({ ...env, ...workerOverrides }));
  };
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };
  const register = async (url: string, events: string[], user = 'alice') => {
    const res = await http('POST', `${api.url}/api/webhooks`, { url, events }, await authHeaders(user));
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const enqueue = async (user = 'alice', payload: Record<string, unknown> = { durationMs: 1 }) => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload }, await authHeaders(user));
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  };
  const deliveries = async (endpointId: string, user = 'alice') => {
    const res = await http('GET', `${api.url}/api/webhooks/${endpointId}/deliveries?limit=100`, undefined, await authHeaders(user));
    expect(res.status).toBe(200);
    return webhookDeliveryListSchema.parse(res.body).deliveries;
  };

  afterEach(async () => {
    for (const r of receivers) await r.close();
    await Promise.all(workers.map((w) => w.close()));
    await api?.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
    workers = [];
    receivers = [];
  });

  it("signs each delivery as a Standard Webhooks receiver verifies it, and sends an endpoint only its owner's events", async () => {
    await start();
    const target = await receiver();
    const endpoint = await register(target.url, ['job.completed', 'notification']);
    // Bob's job comes first in the feed: once Alice's arrives, Bob's had its turn.
    await enqueue('bob');
    await waitUntil('bob\'s job to finish', async () => (await http('GET', `${api.url}/api/jobs`, undefined, await authHeaders('bob'))).body.jobs[0]?.state === 'completed');
    const jobId = await enqueue('alice');
    const published = await http('POST', `${api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title: 'hi', message: 'there' }, await authHeaders('notifier', ['service']));
    expect(published.status).toBe(201);

    await waitUntil('two deliveries', () => target.delivered().length >= 2);
    const verifier = new Webhook(endpoint.secret);
    const payloads = target.requests.map((r) => webhookPayloadSchema.parse(verifier.verify(r.body, r.headers as Record<string, string>)));
    expect(payloads.map((p) => p.type).sort()).toEqual(['job.completed', 'notification']);
    expect(payloads.find((p) => p.type === 'job.completed')?.data).toMatchObject({ jobId, jobType: 'demo.work', result: { ok: true } });
    expect(payloads.find((p) => p.type === 'notification')?.data).toMatchObject({ id: published.body.id, userId: 'alice', title: 'hi' });
    for (const r of target.requests) {
      expect(r.headers['webhook-id']).toMatch(/^\d+-\d+_ep_[0-9a-f]{32}$/);
      expect(r.headers['content-type']).toBe('application/json');
    }
    // A signature made with another secret does not verify.
    const [first] = target.requests;
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(first!.body, first!.headers as Record<string, string>)).toThrow();
  });

  it('gets a receiver that was down everything once it is back, each webhook-id delivered once, across a worker restart', async () => {
    await start({ WEBHOOK_MAX_ATTEMPTS: '50' });
    let up = false;
    const target = await receiver(() => ({ status: up ? 204 : 503 }));
    const endpoint = await register(target.url, ['job.completed']);
    const jobIds = await Promise.all([1, 2, 3, 4, 5].map(() => enqueue()));
    await waitUntil('every delivery to fail at least once', () => new Set(target.requests.map((r) => r.headers['webhook-id'])).size === 5);
    // The dispatcher and the senders move to another process while the receiver is still down.
    await workers[0]!.close();
    workers.push(await startWorker(env));
    up = true;
    await waitUntil('five deliveries', () => target.delivered().length >= 5, 30_000);
    const completedIds = target.delivered().map((r) => webhookPayloadSchema.parse(JSON.parse(r.body)).data.jobId);
    expect(completedIds.sort()).toEqual([...jobIds].sort());
    const log = await waitUntil('the log to show every delivery delivered', async () => {
      const entries = await deliveries(endpoint.id);
      return entries.length === 5 && entries.every((d) => d.status === 'delivered') && entries;
    });
    expect(log.every((d) => d.attempts >= 2 && d.lastStatusCode === 204 && d.lastError === null)).toBe(true);
    // Every delivery ran to its end (the log says delivered), so no attempt is left to come: still one 2xx per id.
    const ids = target.delivered().map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('delivers everything to a receiver that was not listening at all once it listens again', async () => {
    await start({ WEBHOOK_MAX_ATTEMPTS: '50' });
    const gone = await startReceiver();
    await gone.close();
    const endpoint = await register(gone.url, ['job.completed']);
    const jobIds = await Promise.all([1, 2].map(() => enqueue()));
    const refused = await waitUntil('both deliveries to be refused a connection', async () => {
      const list = await deliveries(endpoint.id);
      return list.length === 2 && list.every((d) => d.status === 'retrying') && list;
    });
    for (const entry of refused) expect(entry.lastError).toMatch(/^ECONNREFUSED/);
    const back = await receiver(undefined, gone.port);
    await waitUntil('both deliveries', () => back.delivered().length === 2, 30_000);
    expect(back.requests.map((r) => webhookPayloadSchema.parse(JSON.parse(r.body)).data.jobId).sort()).toEqual([...jobIds].sort());
  });

  it('sends nothing twice when the dispatcher reads the feed again from the start, as after a crash before its cursor moved', async () => {
    await start();
    const target = await receiver();
    await register(target.url, ['job.completed', 'notification']);
    await Promise.all([1, 2, 3].map(() => enqueue()));
    await waitUntil('three deliveries', () => target.delivered().length === 3);
    await workers[0]!.close();
    const redis = testRedisClient();
    try {
      const keys = jobstreamKeys(loadWorkerConfig(env).queue);
      await redis.del(keys.webhookCursor);
      workers.push(await startWorker(env));
      const lastFeedId = ((await redis.xrevrange(keys.feed, '+', '-', 'COUNT', 1)) as [string, string[]][])[0]?.[0];
      // The new dispatcher has read the whole feed again once its cursor reaches the feed's last entry.
      await waitUntil('the cursor to reach the end of the feed', async () => (await redis.get(keys.webhookCursor)) === lastFeedId);
    } finally {
      redis.disconnect();
    }
    // One more event: once it is delivered, anything queued again before it would have been sent too.
    await enqueue();
    await waitUntil('the fourth delivery', () => target.delivered().length >= 4);
    const ids = target.requests.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
  });

  it('times out a receiver that does not answer in time and retries the same delivery', async () => {
    await start({}, { WEBHOOK_TIMEOUT_MS: '300' });
    const target = await receiver((_req, index) => (index === 0 ? 'hang' : { status: 200 }));
    const endpoint = await register(target.url, ['job.completed']);
    await enqueue();
    await waitUntil('a delivery after a timeout', () => target.delivered().length === 1);
    expect(target.requests).toHaveLength(2);
    expect(target.requests[0]!.headers['webhook-id']).toBe(target.requests[1]!.headers['webhook-id']);
    const [entry] = await waitUntil('the log entry', async () => {
      const list = await deliveries(endpoint.id);
      return list[0]?.status === 'delivered' && list;
    });
    expect(entry).toMatchObject({ attempts: 2, lastStatusCode: 200, status: 'delivered' });
  });

  it('delivers to a host name, connecting to the address it checked, when the operator allows it', async () => {
    await start({ WEBHOOK_ALLOWED_HOSTS: 'localhost' });
    const target = await receiver();
    const endpoint = await register(`http://localhost:${target.port}/hook`, ['job.completed']);
    await enqueue();
    await waitUntil('the delivery', () => target.delivered().length === 1);
    expect(target.requests[0]!.headers.host).toBe(`localhost:${target.port}`);
    new Webhook(endpoint.secret).verify(target.requests[0]!.body, target.requests[0]!.headers as Record<string, string>);
  });

  it('refuses at delivery a name that resolves to a private address when only the api allows it', async () => {
    await start({ WEBHOOK_ALLOWED_HOSTS: 'localhost,127.0.0.1' }, { WEBHOOK_ALLOWED_HOSTS: '' });
    const target = await receiver();
    const byName = await register(`http://localhost:${target.port}/hook`, ['job.completed']);
    const byAddress = await register(target.url, ['job.completed']);
    await enqueue();
    for (const endpoint of [byName, byAddress]) {
      const [entry] = await waitUntil('the delivery to be given up', async () => {
        const list = await deliveries(endpoint.id);
        return list[0]?.status === 'dead' && list;
      });
      expect(entry).toMatchObject({ attempts: 1, lastStatusCode: null });
      expect(entry!.lastError).toMatch(/127\.0\.0\.1.*may not reach/);
    }
    expect(target.requests).toHaveLength(0);
  });

  it('does not follow a redirect: the attempt fails and the redirect target gets nothing', async () => {
    await start({ WEBHOOK_MAX_ATTEMPTS: '2' });
    const elsewhere = await receiver();
    const target = await receiver(() => ({ status: 302, headers: { location: elsewhere.url } }));
    const endpoint = await register(target.url, ['job.completed']);
    await enqueue();
    const [entry] = await waitUntil('the delivery to be given up', async () => {
      const list = await deliveries(endpoint.id);
      return list[0]?.status === 'dead' && list;
    });
    expect(entry).toMatchObject({ attempts: 2, lastStatusCode: 302 });
    expect(entry!.lastError).toContain('not followed');
    expect(target.requests).toHaveLength(2);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it("counts attempts by outcome, their time, and queued deliveries in the worker's metrics", async () => {
    await start({ WORKER_METRICS_PORT: String(await freePort()), WORKER_METRICS_HOST: '127.0.0.1' });
    const target = await receiver((_req, index) => ({ status: index === 0 ? 500 : 200 }));
    await register(target.url, ['job.completed']);
    await enqueue();
    await waitUntil('a delivery after a failed attempt', () => target.delivered().length === 1);
    const text = await waitUntil('the metrics to count both attempts', async () => {
      const body: string = (await http('GET', `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`)).body;
      return body.includes('jobstream_webhook_delivery_attempts_total{outcome="success"} 1') && body;
    });
    expect(text).toContain('jobstream_webhook_delivery_attempts_total{outcome="http_error"} 1');
    expect(text).toContain('jobstream_webhook_delivery_duration_seconds_count{outcome="success"} 1');
    expect(text).toContain('jobstream_webhook_deliveries_total{outcome="queued"} 1');
    expect(text).toContain('jobstream_webhook_dispatcher_leader 1');
  });
});
