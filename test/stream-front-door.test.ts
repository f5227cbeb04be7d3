import type { ApiServer } from '@jobstream/api';
import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../test-support/http';
import { openSseText, rawRequest, type SseText } from '../test-support/raw-http';
import { startRedisServer, type RedisProcess } from '../test-support/redis-server';
import { cleanupPrefix, spawnService, startApi, testEnv, testRedisUrl, type ServiceProcess, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

/*
 * SSE stream requests are served by a plain node:http handler in front of Express (the stream
 * front door), so that nothing Express makes for a request lives as long as the stream; every
 * other request, and every stream request Express must see (HEAD, a body), goes to Express as before.
 */

const BODY_LIMIT = 65_536;

let env: TestEnv;
let api: ApiServer & { url: string };
const open: SseText[] = [];


/** A job no worker runs: its stream stays open after `connected`. */
async function waitingJob(): Promise<string> {
  const accepted = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } });
  expect(accepted.status).toBe(202);
  return accepted.body.jobId as string;
}

async function connected(path: string, headers: Record<string, string> = {}): Promise<SseText> {
  const stream = await openSseText(`${api.url}${path}`, headers);
  open.push(stream);
  expect(stream.status).toBe(200);
  await stream.waitFor((text) => text.includes('event: connected'));
  return stream;
}

/** The responses of the streams the api holds open now. */
const heldResponses = (): ServerResponse[] => api.hub.streams().map((stream) => stream.res);

describe('the stream front door', () => {
  beforeEach(async () => {
    env = testEnv({ BODY_LIMIT_BYTES: String(BODY_LIMIT) });
    api = await startApi(env);
  });

  afterEach(async () => {
    for (const stream of open.splice(0)) stream.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('holds an open job stream and notification stream on plain node:http objects, never on Express request state', async () => {
    const jobId = await waitingJob();
    await connected(`/api/jobs/${jobId}/events`);
    await connected(`/api/job-events?jobId=${jobId}`);
    await connected('/api/notifications/stream');
    const held = heldResponses();
    expect(held).toHaveLength(3);
    for (const res of held) {
      // Express re-prototypes the request and response it handles and gives the request its route and params.
      expect(Object.getPrototypeOf(res)).toBe(ServerResponse.prototype);
      expect(Object.getPrototypeOf(res.req)).toBe(IncomingMessage.prototype);
      expect(res.req).not.toHaveProperty('route');
      expect(res.req).not.toHaveProperty('params');
      expect(res.req).not.toHaveProperty('originalUrl');
    }
  });

  it('serves a stream path with a trailing slash and a percent-encoded job id like the plain path', async () => {
    const jobId = await waitingJob();
    const encoded = [...jobId].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const stream = await connected(`/api/jobs/${encoded}/events/`);
    expect(stream.text).toContain(`"jobId":"${jobId}"`);
    expect(Object.getPrototypeOf(heldResponses()[0])).toBe(ServerResponse.prototype);
  });

  it('answers a job id that does not percent-decode, or decodes to a bad id, with the 400 Express gives', async () => {
    const notEncoding = await rawRequest(api.url, 'GET', '/api/jobs/%E0%A4%A/events');
    // The same path on a route Express serves (the job's snapshot) is the reference.
    const fromExpress = await rawRequest(api.url, 'GET', '/api/jobs/%E0%A4%A');
    expect(notEncoding.status).toBe(400);
    expect(notEncoding.body).toEqual(fromExpress.body);
    expect(notEncoding.body).toMatchObject({ code: 'VALIDATION_FAILED' });

    const slash = await rawRequest(api.url, 'GET', '/api/jobs/a%2Fb/events');
    expect(slash.status).toBe(400);
    expect(slash.body).toMatchObject({ code: 'INVALID_JOB_ID' });
    expect(slash.headers['x-content-type-options']).toBe('nosniff');
    expect(slash.headers['x-request-id']).toBeTruthy();
  });

  it('leaves HEAD to Express, which routes it to the stream handler and adds helmet headers, as before', async () => {
    const path = `/api/jobs/${randomUUID()}/events`;
    const head = await rawRequest(api.url, 'HEAD', path);
    const get = await rawRequest(api.url, 'GET', path);
    expect(head.status).toBe(404);
    expect(get.status).toBe(404);
    expect(get.body).toMatchObject({ code: 'JOB_NOT_FOUND' });
    // helmet's document headers: Express answered the HEAD; a stream GET skips them.
    expect(head.headers['x-frame-options']).toBe('DENY');
    expect(get.headers['x-frame-options']).toBeUndefined();
  });

  it('answers POST on a stream path with the 404 of Express', async () => {
    const jobId = await waitingJob();
    const res = await rawRequest(api.url, 'POST', `/api/jobs/${jobId}/events`, { headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `No route for POST /api/jobs/${jobId}/events`, code: 'NOT_FOUND' });
  });

  it('refuses a stream request whose declared body is over the limit with 413, before authentication', async () => {
    const jobId = await waitingJob();
    const res = await rawRequest(api.url, 'GET', `/api/jobs/${jobId}/events`, { headers: { authorization: '', 'Content-Length': String(BODY_LIMIT + 1) } });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(res.headers.connection).toBe('close');
  });

  it('replaces an oversized X-Request-Id on a stream, and leaves a header block over the limit to Node (431)', async () => {
    const jobId = await waitingJob();
    const stream = await connected(`/api/jobs/${jobId}/events`, { 'X-Request-Id': 'r'.repeat(4_000) });
    expect(stream.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const huge = await rawRequest(api.url, 'GET', `/api/jobs/${jobId}/events`, { headers: { 'X-Padding': 'p'.repeat(20_000) } });
    expect(huge.status).toBe(431);
    expect(heldResponses()).toHaveLength(1);
  });
});

describe('the stream front door while Redis is away', () => {
  let redis: RedisProcess;
  let service: ServiceProcess;

  beforeEach(async () => {
    redis = await startRedisServer();
    service = await spawnService('api', testEnv({ REDIS_URL: redis.url }));
  });

  afterEach(async () => {
    // As in redis-outage.test.ts: an api whose Redis went away is stopped, not shut down gracefully.
    await service?.stop('SIGKILL');
    await redis?.destroy();
  });

  it('answers a stream request with 503 REDIS_UNAVAILABLE and Retry-After, and an EventSource with a retry hint', async () => {
    const base = service.url!;
    const accepted = await http('POST', `${base}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } });
    expect(accepted.status).toBe(202);
    const jobId = accepted.body.jobId as string;
    await redis.stop(true);
    await waitUntil('the api to notice Redis is gone', async () => (await http('GET', `${base}/readyz`)).status === 503);

    const plain = await rawRequest(base, 'GET', `/api/jobs/${jobId}/events`, { headers: { Accept: 'application/json', 'X-Request-Id': 'outage-1' } });
    expect(plain.status).toBe(503);
    expect(plain.body).toEqual({ error: 'The job store is unreachable; try again shortly', code: 'REDIS_UNAVAILABLE' });
    expect(plain.headers['retry-after']).toBe('5');
    expect(plain.headers['x-request-id']).toBe('outage-1');
    expect(plain.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");

    const eventSource = await rawRequest(base, 'GET', `/api/jobs/${jobId}/events`, { headers: { Accept: 'text/event-stream' } });
    expect(eventSource.status).toBe(200);
    expect(eventSource.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(eventSource.text).toContain(': REDIS_UNAVAILABLE');
  });
});
