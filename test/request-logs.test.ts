import { loadConfig as loadApiConfig, startApiServer, type ApiServer } from '@jobstream/api';
import { loadConfig as loadWorkerConfig, startWorkerService, type WorkerService } from '@jobstream/worker';
import { Redis } from 'ioredis';
import { Writable } from 'node:stream';
import { pino, type Level } from 'pino';
import { authHeaders, DEFAULT_TEST_USER } from '../test-support/auth';
import { http } from '../test-support/http';
import { openSseText, rawRequest } from '../test-support/raw-http';
import { cleanupPrefix, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger at `level` whose lines a test reads back as parsed JSON, as a service writes them. */
function capturedLogger(level: Level = 'info'): { logger: pino.Logger; lines: LogLine[]; text: () => string } {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  const lines: LogLine[] = [];
  const logger = pino({ level }, sink);
  const parse = (): LogLine[] => {
    lines.length = 0;
    for (const chunk of raw) for (const line of chunk.split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
    return lines;
  };
  return {
    logger,
    get lines() {
      return parse();
    },
    text: () => raw.join(''),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const accessLines = (lines: LogLine[]): LogLine[] => lines.filter((line) => line.msg === 'request');

describe('request ids and the access log', () => {
  let env: TestEnv;
  let api: ApiServer;
  let url: string;
  let log: ReturnType<typeof capturedLogger>;

  const start = async (level: Level = 'info', overrides: Record<string, string> = {}): Promise<void> => {
    log = capturedLogger(level);
    api = await startApiServer(loadApiConfig({ ...env, ...overrides }), log.logger);
    url = `http://127.0.0.1:${api.port}`;
  };

  /** The access line of `requestId`, once the server wrote it (after the response went out). */
  const accessLineOf = (requestId: string): Promise<LogLine> =>
    waitUntil(`the access line of ${requestId}`, () => accessLines(log.lines).find((line) => line.requestId === requestId), 5_000);

  beforeEach(() => {
    env = testEnv();
  });

  afterEach(async () => {
    await api?.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('sends a sane X-Request-Id back and writes it on the access line, at the default level, with route, status, time and user', async () => {
    await start();
    const headers = await authHeaders(DEFAULT_TEST_USER);
    const res = await http('GET', `${url}/api/me`, undefined, { ...headers, 'X-Request-Id': 'checkout-7f3a.2_b:c' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('checkout-7f3a.2_b:c');

    const line = await accessLineOf('checkout-7f3a.2_b:c');
    expect(line).toMatchObject({ level: 30, method: 'GET', route: '/api/me', path: '/api/me', status: 200, userId: DEFAULT_TEST_USER });
    expect(typeof line.ms).toBe('number');
    expect(line.aborted).toBeUndefined();
    const token = (headers.authorization ?? '').replace('Bearer ', '');
    expect(token.length).toBeGreaterThan(20);
    expect(log.text()).not.toContain(token);
    expect(log.text()).not.toMatch(/authorization/i);
  });

  it('makes a new id for a request that sends none, a different one each time', async () => {
    await start();
    const first = await http('GET', `${url}/api/me`);
    const second = await http('GET', `${url}/api/me`);
    const ids = [first.headers.get('x-request-id'), second.headers.get('x-request-id')];
    expect(ids[0]).toMatch(UUID);
    expect(ids[1]).toMatch(UUID);
    expect(ids[0]).not.toBe(ids[1]);
    await accessLineOf(ids[0] as string);
  });

  it.each([
    ['10 KB long', 'a'.repeat(10_240)],
    ['with a space', 'abc def'],
    ['with a tab', 'abc\tdef'],
    ['with a non-ASCII character', 'abc\u00e9def'],
    ['sent twice (joined with ", ")', ['first', 'second']],
  ])('replaces a request id %s with a new one, never echoing it', async (_name, value) => {
    await start();
    const sent = Array.isArray(value) ? value : [value];
    const headerLines = sent.map((v) => `X-Request-Id: ${v}`).join('\r\n');
    // The raw request sends the header bytes as they are; a value with CRLF adds header lines, so one can come twice.
    const res = await rawRequest(url, 'GET', '/api/me', { headers: { 'X-Probe': `1\r\n${headerLines}` } });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(UUID);
    for (const v of sent) expect(log.text()).not.toContain(v.length > 64 ? v.slice(0, 64) : `"${v}"`);
    const line = await accessLineOf(res.headers['x-request-id'] as string);
    expect(line).toMatchObject({ route: '/api/me', status: 200 });
  });

  it('never answers a line break or a control character in X-Request-Id with a 500 or an echo', async () => {
    await start();
    for (const hostile of ['abc\rInjected: 1', 'abc\u0001def', 'abc\u007fdef', 'abc\u0000def']) {
      const res = await rawRequest(url, 'GET', '/api/me', { headers: { 'X-Request-Id': hostile } });
      // Node refuses some of these bytes itself (400); what reaches the app gets a new id.
      expect([200, 400]).toContain(res.status);
      if (res.status === 200) expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.text).not.toContain('Injected');
      expect(Object.keys(res.headers)).not.toContain('injected');
    }
    expect(log.text()).not.toContain('Injected');
    expect(log.lines.filter((line) => line.level >= 50)).toEqual([]);
  });

  it('carries the request id on error answers, and lets pages of other origins read it', async () => {
    await start('info', { CORS_ORIGINS: 'https://app.example' });
    const refused = await http('GET', `${url}/api/jobs/no-such-job`, undefined, { 'X-Request-Id': 'lost-job-1', Origin: 'https://app.example' });
    expect(refused).toMatchObject({ status: 404, body: { code: 'JOB_NOT_FOUND' } });
    expect(refused.headers.get('x-request-id')).toBe('lost-job-1');
    expect(refused.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    // A 4xx is the client's business: info, not warn or error.
    expect(await accessLineOf('lost-job-1')).toMatchObject({ level: 30, route: '/api/jobs/:id', status: 404 });

    const preflight = await fetch(`${url}/api/jobs`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-request-id' },
    });
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-Request-Id');
  });

  it('sends the request id in the headers of an SSE stream and logs the stream once when it closes', async () => {
    await start();
    const job = await http('POST', `${url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 60_000 } });
    expect(job.status).toBe(202);
    const stream = await openSseText(`${url}/api/jobs/${job.body.jobId}/events`, { 'X-Request-Id': 'watch-1' });
    expect(stream.status).toBe(200);
    expect(stream.headers['x-request-id']).toBe('watch-1');
    await stream.waitFor((text) => text.includes('event: connected'));
    expect(accessLines(log.lines).find((line) => line.requestId === 'watch-1')).toBeUndefined();

    stream.close();
    const line = await accessLineOf('watch-1');
    expect(line).toMatchObject({ level: 30, method: 'GET', route: '/api/jobs/:id/events', status: 200, userId: DEFAULT_TEST_USER, aborted: true });
  });

  it('logs health probes and metrics scrapes at debug only', async () => {
    await start('debug');
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await http('GET', `${url}${path}`, undefined, { 'X-Request-Id': `probe${path.replace('/', '-')}` });
      expect(res.status).toBe(200);
    }
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect(await accessLineOf(`probe${path.replace('/', '-')}`)).toMatchObject({ level: 20, route: path });
    }
  });

  it('logs a /readyz that answers 503 at debug too, so a draining or Redis-less replica does not flood the error log', async () => {
    await start('debug');
    const job = await http('POST', `${url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 60_000 } });
    // An open stream keeps the server listening while shutdown drains it (over one retry interval).
    const stream = await openSseText(`${url}/api/jobs/${job.body.jobId}/events`);
    await stream.waitFor((text) => text.includes('event: connected'));
    const closing = api.close();
    const res = await http('GET', `${url}/readyz`, undefined, { 'X-Request-Id': 'probe-draining' });
    expect(res).toMatchObject({ status: 503, body: { code: 'SHUTTING_DOWN' } });
    await closing;
    expect(await accessLineOf('probe-draining')).toMatchObject({ level: 20, status: 503, route: '/readyz' });
    stream.close();
  });

  it('logs a request that fails with a 500 at error, with the error\'s stack and the request id', async () => {
    await start();
    // A wait list that is no list: counting the queue fails inside Redis (WRONGTYPE).
    const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    try {
      await redis.set(`${env.QUEUE_PREFIX}:jobs:wait`, 'broken');
    } finally {
      redis.disconnect();
    }
    const res = await http('GET', `${url}/api/queue/stats`, undefined, { 'X-Request-Id': 'broken-1' });
    expect(res).toMatchObject({ status: 500, body: { code: 'INTERNAL_ERROR' } });
    expect(res.headers.get('x-request-id')).toBe('broken-1');

    const access = await accessLineOf('broken-1');
    expect(access).toMatchObject({ level: 50, status: 500, route: '/api/queue/stats' });
    const failure = log.lines.find((line) => line.msg === 'unhandled error' && line.requestId === 'broken-1');
    expect(failure).toMatchObject({ level: 50, method: 'GET', path: '/api/queue/stats' });
    const err = failure?.err as { type?: string; message?: string; stack?: string } | undefined;
    expect(err?.message).toMatch(/WRONGTYPE/);
    expect(err?.stack).toMatch(/\n\s+at /);
  });
});

describe('worker log lines', () => {
  let env: TestEnv;
  let api: ApiServer | undefined;
  let worker: WorkerService | undefined;

  beforeEach(() => {
    env = testEnv();
  });

  afterEach(async () => {
    await worker?.close();
    await api?.close();
    worker = api = undefined;
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('carry the job id and the attempt on every line of a job, and a failed attempt\'s stack', async () => {
    api = await startApiServer(loadApiConfig(env), pino({ level: 'silent' }));
    const log = capturedLogger('debug');
    worker = await startWorkerService(loadWorkerConfig(env), log.logger);
    const job = await http('POST', `http://127.0.0.1:${api.port}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0, failAttempts: 1 } });
    const jobId = job.body.jobId as string;

    const completed = await waitUntil('the second attempt to complete', () => log.lines.find((line) => line.jobId === jobId && line.msg === 'attempt completed'));
    expect(completed).toMatchObject({ attempt: 2, type: 'demo.work' });
    const failed = log.lines.find((line) => line.jobId === jobId && line.msg === 'attempt failed');
    expect(failed).toMatchObject({ level: 40, attempt: 1, willRetry: true });
    expect((failed?.err as { stack?: string } | undefined)?.stack).toMatch(/on purpose\n\s+at /);
    const ofJob = log.lines.filter((line) => line.jobId === jobId);
    expect(ofJob.length).toBeGreaterThanOrEqual(4);
    for (const line of ofJob) expect([1, 2]).toContain(line.attempt);
  });
});
