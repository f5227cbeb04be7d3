import { loadConfig, type ApiServer } from '@jobstream/api';
import { loadConfig as loadMetricsConfig } from '@jobstream/metrics';
import { apiErrorBodySchema } from '@jobstream/contracts';
import { jobstreamKeys, type JobstreamKeys } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { Redis } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { rawRequest, requestOnce } from '../test-support/raw-http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { startMetrics } from './operations-helpers';

/*
 * The edges of the HTTP surface a hostile user pushes on: ids that name BullMQ's own keys instead of
 * jobs, bodies announced larger than the limit, job ids an attacker could compute, the cost of
 * asking for another user's job, and the admin data of the metrics service.
 */

const BODY_LIMIT = 65_536;

let env: TestEnv;
let api: ApiServer & { url: string };
let worker: WorkerService | undefined;
let redis: Redis;
let keys: JobstreamKeys;

beforeEach(async () => {
  env = testEnv({ BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  api = await startApi(env);
  keys = jobstreamKeys(loadConfig(env).queue);
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await api.close();
  redis.disconnect();
  await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
});

const url = (path: string): string => `${api.url}${path}`;
const outcome = (res: { status: number; body: any }): string => `${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`;

async function completedJob(headers: Record<string, string>, payload: Record<string, unknown> = { durationMs: 0 }): Promise<string> {
  const jobId = (await http('POST', url('/api/jobs'), { type: 'demo.work', payload }, headers)).body.jobId as string;
  await waitUntil('the job to complete', async () => (await http('GET', url(`/api/jobs/${jobId}`), undefined, headers)).body?.state === 'completed');
  return jobId;
}

describe('ids that name BullMQ keys, not jobs', () => {
  /** Names BullMQ keeps next to the jobs under `<prefix>:<queue>:`, and jobstream's own `js`. */
  const reserved = ['events', 'meta', 'id', 'wait', 'waiting', 'active', 'completed', 'failed', 'delayed', 'paused', 'prioritized', 'stalled', 'stalled-check', 'limiter', 'marker', 'pc', 'de', 'repeat', 'metrics', 'js', '1'];

  it('answers every such id with 404 JOB_NOT_FOUND on every job route for every role, and opens no stream', async () => {
    worker = await startWorker(env);
    const owner = await authHeaders('alice');
    // With a finished job, BullMQ's own keys (events, meta, id, completed, stalled-check, ...) exist.
    await completedJob(owner);
    const existing = new Set((await redis.keys(`${keys.job('')}*`)).map((key) => key.slice(keys.job('').length)));
    for (const name of ['events', 'meta', 'id', 'completed']) expect(existing).toContain(name);

    const callers = { user: owner, admin: await authHeaders('ops', ['admin']), service: await authHeaders('svc', ['service']) };
    const routes = [
      (id: string) => `/api/jobs/${id}`,
      (id: string) => `/api/job-status/${id}`,
      (id: string) => `/api/jobs/${id}/events`,
      (id: string) => `/api/job-events?jobId=${id}`,
      (id: string) => `/api/jobs/${id}/events?lastEventId=0-1`,
    ];
    const mismatches: string[] = [];
    for (const name of reserved) {
      for (const [caller, headers] of Object.entries(callers)) {
        for (const route of routes) {
          const res = await requestOnce('GET', url(route(name)), { headers });
          if (outcome(res) !== '404 JOB_NOT_FOUND' || !apiErrorBodySchema.safeParse(res.body).success) mismatches.push(`${caller} ${route(name)}: ${outcome(res)}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    // Every stream request was answered with a 404: none is left open on the api.
    expect(api.hub.streams()).toHaveLength(0);
    expect((await http('GET', url('/healthz'))).status).toBe(200);
  });

  it('answers an upper-case spelling of a real job id with 404, like any id jobstream never gave out', async () => {
    const owner = await authHeaders('alice');
    const jobId = (await http('POST', url('/api/jobs'), { type: 'demo.work', payload: { durationMs: 0 } }, owner)).body.jobId as string;
    expect((await http('GET', url(`/api/jobs/${jobId}`), undefined, owner)).status).toBe(200);
    expect(outcome(await http('GET', url(`/api/jobs/${jobId.toUpperCase()}`), undefined, owner))).toBe('404 JOB_NOT_FOUND');
  });
});

describe('bodies announced larger than the limit', () => {
  it('answers a Content-Length of 999999999 with 413 at once, without waiting for the body', async () => {
    // rawRequest gives up after 10 s without an answer; the body announced here is never sent.
    const res = await rawRequest(api.url, 'POST', '/api/jobs', { headers: { 'Content-Type': 'application/json', 'Content-Length': '999999999' } });
    expect(outcome(res)).toBe('413 PAYLOAD_TOO_LARGE');
    expect(res.headers.connection).toBe('close');
    expect((await http('GET', url('/healthz'))).status).toBe(200);
  });

  it('answers a Content-Length one byte over the limit with 413 before authenticating, and one at the limit is read', async () => {
    const over = await rawRequest(api.url, 'POST', '/api/jobs', { headers: { authorization: '', 'Content-Type': 'application/json', 'Content-Length': String(BODY_LIMIT + 1) } });
    expect(outcome(over)).toBe('413 PAYLOAD_TOO_LARGE');
    const body = JSON.stringify({ type: 'demo.work', payload: { durationMs: 0, result: 'x'.repeat(BODY_LIMIT - 100) } });
    const padded = body + ' '.repeat(BODY_LIMIT - Buffer.byteLength(body));
    expect(Buffer.byteLength(padded)).toBe(BODY_LIMIT);
    expect((await rawRequest(api.url, 'POST', '/api/jobs', { headers: { 'Content-Type': 'application/json' }, body: padded })).status).toBe(202);
  });

  it.each(['utf-16', 'UTF-16LE', 'utf-32', '"utf-16"', 'utf8'])('answers a JSON body declared charset=%s with 415 UNSUPPORTED_MEDIA_TYPE', async (charset) => {
    const body = JSON.stringify({ type: 'demo.work', payload: { durationMs: 0 } });
    const res = await rawRequest(api.url, 'POST', '/api/jobs', { headers: { 'Content-Type': `application/json; charset=${charset}` }, body });
    expect(outcome(res)).toBe('415 UNSUPPORTED_MEDIA_TYPE');
    expect(await redis.exists(keys.job('id'))).toBe(0);
  });

  it('accepts a JSON body declared charset=utf-8 in any case or quoted', async () => {
    const body = JSON.stringify({ type: 'demo.work', payload: { durationMs: 0 } });
    for (const charset of ['utf-8', 'UTF-8', '"utf-8"']) {
      const res = await rawRequest(api.url, 'POST', '/api/jobs', { headers: { 'Content-Type': `application/json; charset=${charset}` }, body });
      expect(`${charset} ${res.status}`).toBe(`${charset} 202`);
    }
  });
});

describe('unknown query parameters', () => {
  it.each([
    ['GET /api/notifications', '/api/notifications?limit=5&sort=desc'],
    ['GET /api/jobs', '/api/jobs?limit=5&sort=desc'],
  ])('are named by themselves on %s, not as the body', async (_route, path) => {
    const res = await http('GET', url(path), undefined, await authHeaders('alice'));
    expect(outcome(res)).toBe('400 VALIDATION_FAILED');
    expect(res.body.details).toEqual([{ path: 'sort', message: 'is not a known field' }]);
  });
});

describe('job ids derived from idempotency keys', () => {
  /** The derivation an attacker could run offline: a hash of the owner and the key, no secret. */
  function unkeyedId(owner: string, key: string): string {
    const hex = createHash('sha1').update(`jobstream:idempotency:${JSON.stringify([owner, key])}`).digest('hex');
    const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
  }

  it('cannot be computed from the owner and the key, and are the same on every replica', async () => {
    const alice = await authHeaders('alice');
    const submission = { type: 'demo.work', payload: { durationMs: 0 }, idempotencyKey: 'order-42' };
    const first = await http('POST', url('/api/jobs'), submission, alice);
    expect(first.status).toBe(202);
    expect(first.body.jobId).not.toBe(unkeyedId('alice', 'order-42'));
    const replica = await startApi(env);
    try {
      const again = await http('POST', `${replica.url}/api/jobs`, submission, alice);
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.jobId).toBe(first.body.jobId);
    } finally {
      await replica.close();
    }
  });

  it('follow JOB_ID_SECRET when it is set: another secret gives other ids for the same key', async () => {
    const submission = { type: 'demo.work', payload: { durationMs: 0 }, idempotencyKey: 'order-42' };
    const alice = await authHeaders('alice');
    const ids: string[] = [];
    for (const secret of ['a'.repeat(32), 'b'.repeat(32)]) {
      const scoped = testEnv({ JOB_ID_SECRET: secret });
      const replica = await startApi(scoped);
      try {
        ids.push((await http('POST', `${replica.url}/api/jobs`, submission, alice)).body.jobId as string);
      } finally {
        await replica.close();
        await cleanupPrefix(testRedisUrl(), scoped.QUEUE_PREFIX);
      }
    }
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
});

describe("another user's large job", () => {
  /** Bytes Redis has sent to all its clients so far. */
  async function redisBytesOut(): Promise<number> {
    const info = await redis.info('stats');
    return Number(/total_net_output_bytes:(\d+)/.exec(info)?.[1]);
  }

  it('is refused without its payload or result ever leaving Redis', async () => {
    worker = await startWorker(env);
    const alice = await authHeaders('alice');
    const mallory = await authHeaders('mallory');
    const big = 'x'.repeat(50_000);
    const jobId = await completedJob(alice, { durationMs: 0, result: big });
    expect((await http('GET', url(`/api/jobs/${jobId}`), undefined, alice)).body.result).toBe(big);
    await worker.close();
    worker = undefined;

    const before = await redisBytesOut();
    for (let i = 0; i < 5; i += 1) {
      expect(outcome(await http('GET', url(`/api/jobs/${jobId}`), undefined, mallory))).toBe('404 JOB_NOT_FOUND');
    }
    const sent = (await redisBytesOut()) - before;
    // Five refusals cost a few hundred bytes each (the api's other traffic included), never the 100 KB per read of payload and result.
    expect(sent).toBeLessThan(50_000);
    expect(outcome(await http('GET', url(`/api/jobs/${randomUUID()}`), undefined, mallory))).toBe('404 JOB_NOT_FOUND');
  });
});

describe('the metrics service', () => {
  it('serves its alerts (budget, spend, workers) only on the admin listener, not on the port Prometheus scrapes', async () => {
    const metrics = await startMetrics(env);
    try {
      const open = await http('GET', `${metrics.url}/api/metrics/alerts`);
      expect(outcome(open)).toBe('404 NOT_FOUND');
      expect(JSON.stringify(open.body)).not.toMatch(/budget|spent/i);
      expect((await http('GET', `${metrics.url}/metrics`)).status).toBe(200);
      expect((await http('GET', `${metrics.url}/healthz`)).status).toBe(200);
      await waitUntil('the first alert evaluation', async () => (await http('GET', `${metrics.adminUrl}/api/metrics/alerts`)).status === 200);
      // The api serves the same data, to admins only.
      expect(outcome(await http('GET', url('/api/metrics/alerts'), undefined, await authHeaders('alice')))).toBe('403 FORBIDDEN');
    } finally {
      await metrics.close();
    }
  });

  it('binds the admin listener to loopback unless told otherwise', () => {
    const { admin } = loadMetricsConfig({});
    expect(admin).toEqual({ host: '127.0.0.1', port: 9103 });
  });
});
