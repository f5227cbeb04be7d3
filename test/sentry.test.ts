import type { ApiServer } from '@jobstream/api';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { http } from '../test-support/http';
import { cleanupPrefix, spawnService, startApi, testEnv, testRedisClient, testRedisUrl, type ServiceProcess } from '../test-support/services';
import { waitFor } from './operations-helpers';

interface SentryEvent {
  level?: string;
  tags?: Record<string, string>;
  contexts?: Record<string, Record<string, unknown>>;
  exception?: { values?: { type?: string; value?: string }[] };
}

/** A stand-in for sentry.io: accepts envelopes on /api/<project>/envelope/ and keeps their events. */
async function fakeSentry(): Promise<{ server: Server; dsn: string; events: SentryEvent[] }> {
  const events: SentryEvent[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (/^\/api\/1\/envelope\/?/.test(req.url ?? '')) {
        // An envelope: a header line, then item header and item payload lines.
        const lines = body.toString('utf8').split('\n').filter(Boolean);
        for (let i = 1; i + 1 < lines.length; i += 2) {
          const item = JSON.parse(lines[i] as string) as { type?: string };
          if (item.type === 'event') events.push(JSON.parse(lines[i + 1] as string) as SentryEvent);
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, dsn: `http://publickey@127.0.0.1:${(server.address() as AddressInfo).port}/1`, events };
}

describe('Sentry', () => {
  let env: Record<string, string>;
  let api: (ApiServer & { url: string }) | undefined;
  let worker: ServiceProcess | undefined;
  let sentry: Awaited<ReturnType<typeof fakeSentry>>;

  beforeEach(async () => {
    sentry = await fakeSentry();
    env = testEnv({ SENTRY_DSN: sentry.dsn, SENTRY_ENVIRONMENT: 'test', WORKER_METRICS_PORT: '0' });
  });

  afterEach(async () => {
    await worker?.stop();
    await api?.close();
    worker = api = undefined;
    sentry.server.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('reports a failed job from a worker process with its job id, type and attempt', async () => {
    api = await startApi({ ...env, SENTRY_DSN: '' });
    worker = await spawnService('worker', env);
    expect(worker.output()).toContain('sentry enabled');
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0, failAttempts: 5 } });
    const jobId: string = res.body.jobId;

    const last = await waitFor('the last attempt to reach Sentry', async () =>
      sentry.events.find((e) => e.tags?.jobId === jobId && e.tags?.final === 'true'),
    );
    expect(last).toMatchObject({
      level: 'error',
      tags: { jobId, jobType: 'demo.work', attempt: '3', service: 'worker' },
      contexts: { job: { jobId, type: 'demo.work', attempt: 3, maxAttempts: 3 } },
    });
    expect(last.exception?.values?.[0]?.value).toContain('on purpose');
    const earlier = sentry.events.filter((e) => e.tags?.jobId === jobId && e.tags?.final === 'false');
    expect(earlier.map((e) => [e.level, e.tags?.attempt])).toEqual([
      ['warning', '1'],
      ['warning', '2'],
    ]);
  });

  it('reports a request of the api that ends in a 500 with its route and request id', async () => {
    const apiProcess = await spawnService('api', env);
    try {
      // A wait list that is no list: counting the queue fails inside Redis (WRONGTYPE), a 500.
      const redis = testRedisClient();
      try {
        await redis.set(`${env.QUEUE_PREFIX}:jobs:wait`, 'broken');
      } finally {
        redis.disconnect();
      }
      const res = await http('GET', `${apiProcess.url}/api/queue/stats`, undefined, { 'X-Request-Id': 'stats-500' });
      expect(res.status).toBe(500);
      const event = await waitFor('the 500 to reach Sentry', async () => sentry.events.find((e) => e.tags?.requestId === 'stats-500'));
      expect(event).toMatchObject({ level: 'error', tags: { route: '/api/queue/stats', service: 'api' }, contexts: { request: { method: 'GET', path: '/api/queue/stats' } } });
      expect(event.exception?.values?.[0]?.value).toContain('WRONGTYPE');
    } finally {
      await apiProcess.stop();
    }
  });

  it('sends nothing and logs nothing about Sentry when SENTRY_DSN is not set', async () => {
    api = await startApi({ ...env, SENTRY_DSN: '' });
    worker = await spawnService('worker', { ...env, SENTRY_DSN: '' });
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0, failAttempts: 5 } });
    await waitFor('the job to fail', async () => (await http('GET', `${api!.url}/api/jobs/${res.body.jobId}`)).body.state === 'failed');
    await new Promise((r) => setTimeout(r, 300));
    expect(sentry.events).toEqual([]);
    expect(worker.output()).not.toContain('sentry');
  });
});
