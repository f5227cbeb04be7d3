import { loadConfig, type ApiServer } from '@jobstream/api';
import { apiErrorBodySchema } from '@jobstream/contracts';
import { jobstreamKeys, type JobstreamKeys } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { authHeaders, DEFAULT_TEST_USER, TEST_JWT_SECRET, tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { vapidEnv } from '../test-support/push';
import { openSseText, rawRequest, rawSseMessages, requestOnce, type RawSseMessage } from '../test-support/raw-http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, waitForApiQueueMetas, type TestEnv } from '../test-support/services';
import { connectSse } from '../test-support/sse-client';
import { waitUntil } from '../test-support/wait';

/*
 * Hostile input thrown at a running api (and a worker where a job has to run). Each test has its own
 * prefix. Every refusal is checked three ways: the status and stable code (and the error body's
 * shape), the server still answering a normal request, and Redis holding no key the refused
 * requests could have left.
 */

/** Big enough for 100,000 nested arrays (200 kB) to reach the JSON parser. */
const BODY_LIMIT = 262_144;
const USER = DEFAULT_TEST_USER;

let env: TestEnv;
let api: ApiServer & { url: string };
let worker: WorkerService | undefined;
let redis: Redis;
let keys: JobstreamKeys;
let baseline: Set<string>;

beforeEach(async () => {
  env = testEnv({ BODY_LIMIT_BYTES: String(BODY_LIMIT), RATE_LIMIT_ENQUEUE_POINTS: '0', ...vapidEnv() });
  api = await startApi(env);
  keys = jobstreamKeys(loadConfig(env).queue);
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  // The queues' meta hashes are part of the baseline, not of a refusal.
  await waitForApiQueueMetas(redis, env);
  baseline = new Set(await keysNow());
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await api.close();
  redis.disconnect();
  await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
});

const keysNow = (): Promise<string[]> => redis.keys(`${env.QUEUE_PREFIX}*`);
const url = (path: string): string => `${api.url}${path}`;
const postJob = (body: unknown, headers: Record<string, string> = {}) => http('POST', url('/api/jobs'), body, headers);
const outcome = (res: { status: number; body: any }): string => `${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`;

/** A refusal: `want` is "<status> <CODE>", and the body is the api's error shape. */
function expectRefused(res: { status: number; body: any }, want: string): void {
  expect(outcome(res)).toBe(want);
  apiErrorBodySchema.parse(res.body);
}

/**
 * After refusals: the server still answers a normal request, and no key appeared under the prefix
 * since `baseline` (a refused stream request gives its slot back when its response closes, so that
 * is waited for).
 */
async function expectUnharmed(): Promise<void> {
  expect((await http('GET', url('/healthz'))).status).toBe(200);
  expect((await http('GET', url('/api/queue/stats'))).status).toBe(200);
  const added = async () => (await keysNow()).filter((key) => !baseline.has(key)).sort();
  await waitUntil('refused requests to leave no keys', async () => (await added()).length === 0, 2_000).catch(() => undefined);
  expect(await added()).toEqual([]);
}

const nest = (depth: number, open: string, close: string, inner = ''): string => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
const demoWith = (result: string): string => `{"type":"demo.work","payload":{"durationMs":1,"result":${result}}}`;
const submission = '{"type":"demo.work","payload":{"durationMs":1}}';

describe('hostile request bodies', () => {
  it.each([
    ['100,000 nested arrays as the body', () => nest(100_000, '[', ']')],
    ['100,000 nested arrays as a demo.work result', () => demoWith(nest(100_000, '[', ']'))],
    ['40,000 nested objects as a demo.work result', () => demoWith(nest(40_000, '{"a":', '}', '0'))],
    ['10,000 nested arrays as the job type', () => `{"type":${nest(10_000, '[', ']')},"payload":{}}`],
  ])('refuses %s with 400 VALIDATION_FAILED at once and keeps serving', async (_name, body) => {
    const started = Date.now();
    const res = await postJob(body());
    expectRefused(res, '400 VALIDATION_FAILED');
    expect(Date.now() - started).toBeLessThan(5_000);
    await expectUnharmed();
  });

  it('accepts a body nested 64 levels deep and refuses one level more, naming the body', async () => {
    // The submission object and its payload are two of the levels.
    expect((await postJob(demoWith(nest(62, '[', ']')))).status).toBe(202);
    const refused = await postJob(demoWith(nest(63, '[', ']')));
    expectRefused(refused, '400 VALIDATION_FAILED');
    expect(refused.body.details).toEqual([{ path: '(body)', message: 'nested deeper than 64 levels' }]);
  });

  it.each([
    ['a truncated object', '{"type": "demo.work", '],
    ['a trailing comma', '{"type":"demo.work","payload":{"durationMs":1},}'],
    ['single quotes', "{'type':'demo.work','payload':{'durationMs':1}}"],
    ['NaN', '{"type":"demo.work","payload":{"durationMs":NaN}}'],
    ['two documents', '{"type":"demo.work"}{"payload":{}}'],
    ['a NUL byte', '\u0000'],
    ['an unterminated string', '{"type":"demo.work'],
    ['a comment', '{"type":"demo.work", /* x */ "payload":{}}'],
  ])('answers JSON with %s with 400 INVALID_JSON', async (_name, body) => {
    expectRefused(await postJob(body), '400 INVALID_JSON');
    await expectUnharmed();
  });

  it('answers bytes that are not UTF-8 with 400 INVALID_JSON', async () => {
    const res = await rawRequest(api.url, 'POST', '/api/jobs', {
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0xc3]),
    });
    expectRefused(res, '400 INVALID_JSON');
    await expectUnharmed();
  });

  const demo = (payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'demo.work', payload, ...extra });
  const cards = (payload: Record<string, unknown>) => ({ type: 'flashcards.generate', payload: { content: 'c', subject: 's', topic: 't', ...payload } });
  it.each([
    ['an empty body', '', 'type'],
    ['type as a number', { type: 42, payload: { durationMs: 1 } }, 'type'],
    ['type as an array', { type: ['demo.work'], payload: { durationMs: 1 } }, 'type'],
    ['payload as a string', { type: 'demo.work', payload: '{"durationMs":1}' }, 'payload'],
    ['payload as an array', { type: 'demo.work', payload: [{ durationMs: 1 }] }, 'payload'],
    ['payload as null', { type: 'demo.work', payload: null }, 'payload'],
    ['durationMs as a string', demo({ durationMs: '1' }), 'payload.durationMs'],
    ['durationMs as a fraction', demo({ durationMs: 1.5 }), 'payload.durationMs'],
    ['durationMs above its maximum', demo({ durationMs: 600_001 }), 'payload.durationMs'],
    ['durationMs as 1e999 (Infinity once parsed)', '{"type":"demo.work","payload":{"durationMs":1e999}}', 'payload.durationMs'],
    ['steps as a boolean', demo({ durationMs: 1, steps: true }), 'payload.steps'],
    ['failAttempts below zero', demo({ durationMs: 1, failAttempts: -1 }), 'payload.failAttempts'],
    ['an unknown payload field', demo({ durationMs: 1, shell: 'rm -rf /' }), 'payload.shell'],
    ['an unknown top-level field', demo({ durationMs: 1 }, { owner: 'admin' }), 'owner'],
    ['idempotencyKey as a number', demo({ durationMs: 1 }, { idempotencyKey: 7 }), 'idempotencyKey'],
    ['idempotencyKey as an object', demo({ durationMs: 1 }, { idempotencyKey: { $gt: '' } }), 'idempotencyKey'],
    ['an empty idempotencyKey', demo({ durationMs: 1 }, { idempotencyKey: '' }), 'idempotencyKey'],
    ['an idempotencyKey of 201 characters', demo({ durationMs: 1 }, { idempotencyKey: 'k'.repeat(201) }), 'idempotencyKey'],
    ['an idempotencyKey with a newline', demo({ durationMs: 1 }, { idempotencyKey: 'a\n\nevent: completed' }), 'idempotencyKey'],
    ['an idempotencyKey with a CR', demo({ durationMs: 1 }, { idempotencyKey: 'a\rid: 1-0' }), 'idempotencyKey'],
    ['an idempotencyKey with non-ASCII letters', demo({ durationMs: 1 }, { idempotencyKey: 'clé' }), 'idempotencyKey'],
    ['flashcards count as a string', cards({ count: '5' }), 'payload.count'],
    ['flashcards count of 51', cards({ count: 51 }), 'payload.count'],
    ['flashcards content of 50,001 characters', cards({ content: 'x'.repeat(50_001) }), 'payload.content'],
    ['an empty flashcards subject', cards({ subject: '' }), 'payload.subject'],
  ])('answers %s with 400 VALIDATION_FAILED naming the field', async (_name, body, path) => {
    const res = await postJob(body);
    expectRefused(res, '400 VALIDATION_FAILED');
    expect((res.body.details as { path: string }[]).map((d) => d.path)).toContain(path);
    await expectUnharmed();
  });

  it.each([
    ['a shell command', 'rm -rf /'],
    ['a trailing space', 'demo.work '],
    ['upper case', 'DEMO.WORK'],
    ['a trailing newline', 'demo.work\n'],
    ['a trailing NUL', 'demo.work\u0000'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['toString', 'toString'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['an empty string', ''],
    ['10,000 characters', 'x'.repeat(10_000)],
  ])('refuses an unknown job type (%s) with 400 VALIDATION_FAILED on type', async (_name, type) => {
    const res = await postJob({ type, payload: { durationMs: 1 } });
    expectRefused(res, '400 VALIDATION_FAILED');
    expect(res.body.details).toEqual([expect.objectContaining({ path: 'type' })]);
    await expectUnharmed();
  });

  it('answers a body over the limit with 413, also when it arrives gzip-compressed (the limit counts decompressed bytes)', async () => {
    expectRefused(await postJob(demoWith(JSON.stringify('x'.repeat(BODY_LIMIT)))), '413 PAYLOAD_TOO_LARGE');
    const bomb = gzipSync(demoWith(JSON.stringify(' '.repeat(20_000_000))));
    expect(bomb.length).toBeLessThan(BODY_LIMIT / 4);
    const inflated = await rawRequest(api.url, 'POST', '/api/jobs', { headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: bomb });
    expectRefused(inflated, '413 PAYLOAD_TOO_LARGE');
    await expectUnharmed();
  });

  it.each([
    ['a gzip body that is not gzip', 'gzip', Buffer.from('not gzip at all')],
    ['a truncated gzip body', 'gzip', gzipSync(submission).subarray(0, 20)],
    ['a deflate body that is not deflate', 'deflate', Buffer.from('not deflate')],
    ['a br body that is not brotli', 'br', Buffer.from('not brotli')],
    ['a zstd body that is not zstd', 'zstd', Buffer.from('not zstd')],
  ])('answers %s with 400 INVALID_JSON', async (_name, encoding, body) => {
    const res = await rawRequest(api.url, 'POST', '/api/jobs', { headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body });
    expectRefused(res, '400 INVALID_JSON');
    await expectUnharmed();
  });

  it('accepts well-formed gzip, deflate, br and zstd bodies', async () => {
    const encoded: [string, Buffer][] = [['gzip', gzipSync(submission)], ['deflate', deflateSync(submission)], ['br', brotliCompressSync(submission)], ['zstd', zstdCompressSync(submission)]];
    for (const [encoding, body] of encoded) {
      const res = await rawRequest(api.url, 'POST', '/api/jobs', { headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body });
      expect(`${encoding} ${res.status}`).toBe(`${encoding} 202`);
    }
  });

  it.each([
    ['an unknown Content-Encoding', { 'Content-Type': 'application/json', 'Content-Encoding': 'x-snappy' }],
    ['a non-UTF charset', { 'Content-Type': 'application/json; charset=latin1' }],
    ['a form body', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['no Content-Type', {}],
  ])('answers %s with 415 UNSUPPORTED_MEDIA_TYPE', async (_name, headers) => {
    expectRefused(await rawRequest(api.url, 'POST', '/api/jobs', { headers, body: submission }), '415 UNSUPPORTED_MEDIA_TYPE');
    await expectUnharmed();
  });

  it('keeps __proto__ and constructor keys of a result as plain data: nothing is polluted and the result round-trips', async () => {
    worker = await startWorker(env);
    const result = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"toString":"x"}';
    const accepted = await postJob(demoWith(result));
    expect(accepted.status).toBe(202);
    const snapshot = await waitUntil('the job to complete', async () => {
      const res = await http('GET', url(`/api/jobs/${accepted.body.jobId}`));
      return res.body.state === 'completed' && res.body;
    });
    expect(snapshot.result).toEqual(JSON.parse(result));
    expect(Object.keys(snapshot.result)).toEqual(['__proto__', 'constructor', 'toString']);
    // The api and the worker run in this process: a polluted prototype would show here.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const refused = await postJob('{"__proto__":{"polluted":"yes"},"type":"demo.work","payload":{"durationMs":1}}');
    expectRefused(refused, '400 VALIDATION_FAILED');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('hostile ids on every route that takes one', () => {
  /** Ids as they go over the wire (percent-encoded where encoded). */
  const hostileIds: [label: string, wire: string][] = [
    ['a parent directory', '..'],
    ['an encoded parent directory', '%2E%2E'],
    ['an encoded traversal', '..%2F..%2Fetc%2Fpasswd'],
    ['a backslash traversal', '..%5C..%5Cwindows'],
    ['CRLF and a header', 'a%0D%0AX-Injected:%20yes'],
    ['LF and an SSE field', 'a%0A%0Aevent:%20completed'],
    ['a NUL byte', '%00'],
    ['a NUL inside', 'job%00id'],
    ['129 characters', 'a'.repeat(129)],
    ['8,000 characters', 'a'.repeat(8_000)],
    ['an emoji', '%F0%9F%98%80'],
    ['an accented letter', 'caf%C3%A9'],
    ['a line separator', 'a%E2%80%A8b'],
    ['fullwidth digits', '%EF%BC%91%EF%BC%92'],
    ['a colon (the Redis key separator)', 'a:b'],
    ['a Redis glob', 'a*'],
    ['a leading dash', '-abc'],
    ['a space', 'a%20b'],
    ['markup', '%22%3Cscript%3E'],
    ['an encoded slash', 'abc%2Fevents'],
    ['invalid percent-encoding', '%E0%A4%A'],
    ['a lone percent sign', '%'],
  ];
  const decodable = (wire: string): boolean => {
    try {
      decodeURIComponent(wire);
      return true;
    } catch {
      return false;
    }
  };

  /** What each route answers for an id that cannot be one, and for a well-formed id that names nothing. */
  it.each([
    { route: 'GET /api/jobs/:id', method: 'GET', path: (id: string) => `/api/jobs/${id}`, inPath: true, invalid: '400 INVALID_JOB_ID', unknown: '404 JOB_NOT_FOUND' },
    { route: 'GET /api/job-status/:id', method: 'GET', path: (id: string) => `/api/job-status/${id}`, inPath: true, invalid: '400 INVALID_JOB_ID', unknown: '404 JOB_NOT_FOUND' },
    { route: 'GET /api/jobs/:id/events', method: 'GET', path: (id: string) => `/api/jobs/${id}/events`, inPath: true, invalid: '400 INVALID_JOB_ID', unknown: '404 JOB_NOT_FOUND' },
    { route: 'GET /api/job-events?jobId=', method: 'GET', path: (id: string) => `/api/job-events?jobId=${id}`, inPath: false, invalid: '400 INVALID_JOB_ID', unknown: '404 JOB_NOT_FOUND' },
    // A malformed notification id names none: the same 404 as an unknown one (ids are not probeable).
    { route: 'POST /api/notifications/:id/read', method: 'POST', path: (id: string) => `/api/notifications/${id}/read`, inPath: true, invalid: '404 NOTIFICATION_NOT_FOUND', unknown: '404 NOTIFICATION_NOT_FOUND' },
    { route: 'DELETE /api/push/subscriptions/:id', method: 'DELETE', path: (id: string) => `/api/push/subscriptions/${id}`, inPath: true, invalid: '404 PUSH_SUBSCRIPTION_NOT_FOUND', unknown: '404 PUSH_SUBSCRIPTION_NOT_FOUND' },
  ])('$route answers every hostile id with $invalid and stores nothing', async ({ method, path, inPath, invalid, unknown }) => {
    const send = (wire: string) =>
      rawRequest(api.url, method, path(wire), method === 'POST' ? { headers: { 'Content-Type': 'application/json' }, body: '{}' } : {});
    const mismatches: { id: string; got: string; want: string }[] = [];
    for (const [label, wire] of [...hostileIds, ['a well-formed id that names nothing', `x${randomUUID().replace(/-/g, '').slice(0, 24)}`] as const]) {
      // The router cannot decode a malformed path parameter at all: that is refused before the route runs.
      const want = label.startsWith('a well-formed') ? unknown : inPath && !decodable(wire) ? '400 VALIDATION_FAILED' : invalid;
      const res = await send(wire);
      if (outcome(res) !== want || !apiErrorBodySchema.safeParse(res.body).success || 'x-injected' in res.headers) {
        mismatches.push({ id: label, got: `${outcome(res)} ${res.text.slice(0, 120)}`, want });
      }
    }
    expect(mismatches).toEqual([]);
    await expectUnharmed();
  });

  it.each([
    ['/api/jobs/../../healthz', '404 NOT_FOUND'],
    ['/api/../healthz', '404 NOT_FOUND'],
    ['/api/jobs/..%2F..%2F..%2Fhealthz', '400 INVALID_JOB_ID'],
    ['/../../../../etc/passwd', '404 NOT_FOUND'],
    ['/..%2F..%2F..%2Fpackage.json', '404 NOT_FOUND'],
    ['/assets/..%2F..%2F..%2F..%2Fpackage.json', '404 NOT_FOUND'],
    ['/%2e%2e/%2e%2e/%2e%2e/package.json', '404 NOT_FOUND'],
  ])('does not let %s reach another route or a file outside the dashboard (%s)', async (path, want) => {
    const res = await rawRequest(api.url, 'GET', path);
    expectRefused(res, want);
    expect(res.text).not.toMatch(/workspaces|root:|"status"/);
    await expectUnharmed();
  });

  it.each([
    ['a NUL byte in the path', 'GET', '/api/jobs/a\u0000b', {}, 400],
    ['a bare LF in Last-Event-ID', 'GET', '/api/job-events?jobId=x', { 'Last-Event-ID': '1-0\nevent: completed' }, 400],
    ['a bare CR in Last-Event-ID', 'GET', '/api/job-events?jobId=x', { 'Last-Event-ID': '1-0\rid: 9-9' }, 400],
    ['a NUL in Last-Event-ID', 'GET', '/api/job-events?jobId=x', { 'Last-Event-ID': '1-0\u0000' }, 400],
    ['a bare LF in Idempotency-Key', 'POST', '/api/jobs', { 'Content-Type': 'application/json', 'Idempotency-Key': 'a\nb' }, 400],
    ['headers over 16 KB', 'GET', '/api/queue/stats', { 'X-Note': 'a'.repeat(20_000) }, 431],
  ] as const)("is refused by Node's HTTP parser before the app: %s", async (_name, method, path, headers, status) => {
    const res = await rawRequest(api.url, method, path, { headers: { ...headers }, ...(method === 'POST' ? { body: submission } : {}) });
    expect(res.status).toBe(status);
    // Node's own answer has no body: the request never reached the app.
    expect(res.text).toBe('');
    await expectUnharmed();
  });
});

describe('hostile paging parameters on GET /api/jobs', () => {
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

  it.each([
    ['CR LF and an SSE field', '1-0%0D%0Aevent:%20completed', '400 INVALID_CURSOR'],
    ['a NUL byte', '%00', '400 INVALID_CURSOR'],
    ['invalid percent-encoding', '%E0%A4%A', '400 INVALID_CURSOR'],
    ['a Redis range bound (+inf)', b64('+inf:abc'), '400 INVALID_CURSOR'],
    ['an exclusive Redis range bound', b64('(1700000000000:abc'), '400 INVALID_CURSOR'],
    ['a time beyond 16 digits', b64('12345678901234567:abc'), '400 INVALID_CURSOR'],
    ['a time beyond the safe integers', b64('9007199254740993:abc'), '400 INVALID_CURSOR'],
    ['a Redis glob as the job id', b64('1700000000000:a*'), '400 INVALID_CURSOR'],
    ['a Redis key as the job id', b64('1700000000000:{jobstream}:jobs:x'), '400 INVALID_CURSOR'],
    ['8,000 characters', 'a'.repeat(8_000), '400 VALIDATION_FAILED'],
    ['the parameter twice', 'a&cursor=b', '400 VALIDATION_FAILED'],
    ['bracket syntax for an operator', 'x&cursor[$gt]=', '400 VALIDATION_FAILED'],
  ])('refuses a cursor with %s and stores nothing', async (_name, wire, want) => {
    expectRefused(await rawRequest(api.url, 'GET', `/api/jobs?cursor=${wire}`), want);
    await expectUnharmed();
  });

  it.each([
    ['zero', '0'],
    ['101', '101'],
    ['a negative number', '-5'],
    ['a fraction', '2.5'],
    ['1e9', '1e9'],
    ['Infinity', 'Infinity'],
    ['letters', 'ten'],
    ['nothing', ''],
    ['the parameter twice', '1&limit=2'],
    ['a NUL byte', '1%00'],
  ])('refuses a limit of %s with 400 VALIDATION_FAILED and stores nothing', async (_name, wire) => {
    const res = await rawRequest(api.url, 'GET', `/api/jobs?limit=${wire}`);
    expectRefused(res, '400 VALIDATION_FAILED');
    expect((res.body.details as { path: string }[]).map((d) => d.path)).toContain('limit');
    await expectUnharmed();
  });

  it("continues a cursor taken from another user's list in the caller's own list, never the other's", async () => {
    const alice = await authHeaders('alice');
    const mallory = await authHeaders('mallory');
    const job = async (headers: Record<string, string>): Promise<string> => (await postJob({ type: 'demo.work', payload: { durationMs: 1 } }, headers)).body.jobId as string;
    const mallorys = await job(mallory);
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 3; i += 1) await job(alice);
    // A position in time and an id: in mallory's list it means "older than alice's newest job".
    const cursor = (await http('GET', url('/api/jobs?limit=1'), undefined, alice)).body.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const res = await http('GET', url(`/api/jobs?cursor=${cursor}`), undefined, mallory);
    expect(res.status).toBe(200);
    expect(res.body.jobs.map((j: { jobId: string }) => j.jobId)).toEqual([mallorys]);
    expect(res.body.nextCursor).toBeNull();
  });
});

describe('invalid Last-Event-ID values', () => {
  let jobId: string;
  beforeEach(async () => {
    jobId = (await postJob({ type: 'demo.work', payload: { durationMs: 1 } })).body.jobId as string;
    baseline = new Set(await keysNow());
  });

  const streams = (): [string, string][] => [
    ['the job stream', `/api/jobs/${jobId}/events`],
    ['the job-events alias', `/api/job-events?jobId=${jobId}`],
    ['the notification stream', '/api/notifications/stream'],
  ];
  const sep = (path: string): string => (path.includes('?') ? '&' : '?');

  it.each([
    ['letters', 'abc'],
    ['a negative number', '-1'],
    ['no sequence part', '1'],
    ['an empty sequence part', '1-'],
    ['a lone dash', '-'],
    ['three parts', '1-0-0'],
    ['a fraction', '1.5-0'],
    ['hex', '0x1-0'],
    ['a plus sign', '+1-0'],
    ['17 digits', '12345678901234567-0'],
    ['two ids', '1-0,2-0'],
    ['a space inside', '1-0 2-0'],
    ['latin-1 bytes', '\u00ff\u00fe'],
    ['8,000 characters', 'x'.repeat(8_000)],
  ])('refuses a Last-Event-ID header with %s with 400 INVALID_LAST_EVENT_ID on every stream', async (_name, value) => {
    const got = await Promise.all(streams().map(async ([name, path]) => `${name}: ${outcome(await requestOnce('GET', url(path), { headers: { 'Last-Event-ID': value } }))}`));
    expect(got).toEqual(streams().map(([name]) => `${name}: 400 INVALID_LAST_EVENT_ID`));
    await expectUnharmed();
  });

  it.each([
    ['CR LF and an SSE field', '1-0%0D%0Aevent:%20completed'],
    ['LF LF and data', '1-0%0A%0Adata:%20%7B%7D'],
    ['a NUL byte', '1-0%00'],
    ['Arabic-Indic digits', '%D9%A1-%D9%A0'],
    ['fullwidth digits', '%EF%BC%91-%EF%BC%90'],
    ['the parameter twice', '1-0&lastEventId=2-0'],
    ['invalid percent-encoding', '%E0%A4%A'],
  ])('refuses the query lastEventId with %s with 400 INVALID_LAST_EVENT_ID on every stream', async (_name, wire) => {
    const got = await Promise.all(streams().map(async ([name, path]) => `${name}: ${outcome(await rawRequest(api.url, 'GET', `${path}${sep(path)}lastEventId=${wire}`))}`));
    expect(got).toEqual(streams().map(([name]) => `${name}: 400 INVALID_LAST_EVENT_ID`));
    await expectUnharmed();
  });

  it.each(['0-0', '0001-0001', '9999999999999999-9999999999999999'])(
    'opens the job stream for %s, a well-formed cursor naming none of its events, starting with connected',
    async (cursor) => {
      const stream = await connectSse(url(`/api/jobs/${jobId}/events`), { 'Last-Event-ID': cursor });
      try {
        expect(stream.status).toBe(200);
        await stream.waitFor((events) => events.length > 0);
        expect(stream.events[0]?.event).toBe('connected');
      } finally {
        stream.close();
      }
    },
  );
});

describe('tokens', () => {
  const now = (): number => Math.floor(Date.now() / 1000);
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);
  const signed = (claims: Record<string, unknown>, alg = 'HS256'): Promise<string> => new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(secret);
  const unsigned = (alg: string, claims: Record<string, unknown>): string => `${b64({ alg, typ: 'JWT' })}.${b64(claims)}.`;
  const adminClaims = () => ({ sub: 'root', roles: ['admin'], exp: now() + 3600 });
  const bearer = async (token: string | Promise<string>): Promise<string> => `Bearer ${await token}`;

  it.each<{ name: string; want: string; header: () => Promise<string> | string }>([
    { name: 'no Authorization header', want: '401 AUTH_REQUIRED', header: () => '' },
    { name: 'an empty Bearer', want: '401 INVALID_TOKEN', header: () => 'Bearer' },
    { name: 'Basic credentials', want: '401 INVALID_TOKEN', header: () => 'Basic dGVzdDp0ZXN0' },
    { name: 'a garbage token', want: '401 INVALID_TOKEN', header: () => 'Bearer not-a-jwt' },
    { name: 'three garbage segments', want: '401 INVALID_TOKEN', header: () => 'Bearer a.b.c' },
    { name: 'a token with characters outside base64url', want: '401 INVALID_TOKEN', header: () => 'Bearer eyJ*.e30.x' },
    { name: 'a quoted token', want: '401 INVALID_TOKEN', header: () => 'Bearer "abc"' },
    { name: 'a 6 KB token', want: '401 INVALID_TOKEN', header: () => `Bearer ${'a'.repeat(3_000)}.${'b'.repeat(3_000)}.c` },
    { name: 'a token expired two minutes ago (beyond the 30 s skew)', want: '401 TOKEN_EXPIRED', header: () => bearer(tokenFor(USER, [], { issuedAt: now() - 3600, expiresIn: now() - 120 })) },
    { name: 'a token expired 5 s ago (within the skew)', want: '200', header: () => bearer(tokenFor(USER, [], { issuedAt: now() - 3600, expiresIn: now() - 5 })) },
    { name: 'a token signed with another secret', want: '401 INVALID_TOKEN', header: () => bearer(tokenFor('root', ['admin'], { secret: 'another-secret-that-is-long-enough-0123456789' })) },
    { name: 'alg none claiming admin', want: '401 INVALID_TOKEN', header: () => `Bearer ${unsigned('none', adminClaims())}` },
    { name: 'alg None', want: '401 INVALID_TOKEN', header: () => `Bearer ${unsigned('None', adminClaims())}` },
    { name: 'alg NONE', want: '401 INVALID_TOKEN', header: () => `Bearer ${unsigned('NONE', adminClaims())}` },
    { name: 'alg HS512 with the right secret', want: '401 INVALID_TOKEN', header: () => bearer(signed(adminClaims(), 'HS512')) },
    { name: 'HS256 without exp', want: '401 INVALID_TOKEN', header: () => bearer(signed({ sub: USER })) },
    { name: 'HS256 without sub', want: '401 INVALID_TOKEN', header: () => bearer(signed({ exp: now() + 3600 })) },
    { name: 'sub as a number', want: '401 INVALID_TOKEN', header: () => bearer(signed({ sub: 42, exp: now() + 3600 })) },
    { name: 'an empty sub', want: '401 INVALID_TOKEN', header: () => bearer(signed({ sub: '', exp: now() + 3600 })) },
    { name: 'a sub with CR LF', want: '401 INVALID_TOKEN', header: () => bearer(signed({ sub: 'eve\r\nevent: completed', exp: now() + 3600 })) },
    { name: 'a sub of 257 characters', want: '401 INVALID_TOKEN', header: () => bearer(signed({ sub: 'u'.repeat(257), exp: now() + 3600 })) },
    { name: 'nbf an hour ahead', want: '401 INVALID_TOKEN', header: () => bearer(signed({ sub: USER, nbf: now() + 3600, exp: now() + 7200 })) },
    {
      name: 'a real token whose payload was swapped for an admin one',
      want: '401 INVALID_TOKEN',
      header: async () => {
        const [header, , signature] = (await tokenFor(USER)).split('.');
        return `Bearer ${header}.${b64(adminClaims())}.${signature}`;
      },
    },
    { name: 'a real token without its signature', want: '401 INVALID_TOKEN', header: async () => `Bearer ${(await tokenFor(USER, ['admin'])).split('.').slice(0, 2).join('.')}.` },
  ])('answers $name with $want', async ({ header: build, want }) => {
    const header = await build();
    const stats = await http('GET', url('/api/queue/stats'), undefined, { authorization: header });
    expect(outcome(stats)).toBe(want);
    if (want === '200') return;
    apiErrorBodySchema.parse(stats.body);
    expect(stats.headers.get('www-authenticate')).toMatch(/^Bearer realm="jobstream"/);
    expectRefused(await postJob({ type: 'demo.work', payload: { durationMs: 1 } }, { authorization: header }), want);
    expectRefused(await requestOnce('GET', url('/api/notifications/stream'), { headers: { authorization: header } }), want);
    await expectUnharmed();
  });

  it.each<{ name: string; want: string; path: (jobId: string) => string; token: () => Promise<string> | string }>([
    { name: 'a short-lived token on the job stream', want: '200', path: (id) => `/api/jobs/${id}/events`, token: () => tokenFor(USER, [], { expiresIn: '5m' }) },
    { name: 'a short-lived token on the job-events alias', want: '200', path: (id) => `/api/job-events?jobId=${id}`, token: () => tokenFor(USER, [], { expiresIn: '5m' }) },
    { name: 'a short-lived token on the notification stream', want: '200', path: () => '/api/notifications/stream', token: () => tokenFor(USER, [], { expiresIn: '5m' }) },
    { name: 'a short-lived token on GET /api/jobs/:id (not a stream)', want: '401 INVALID_TOKEN', path: (id) => `/api/jobs/${id}`, token: () => tokenFor(USER, [], { expiresIn: '5m' }) },
    { name: 'a short-lived token on GET /api/me', want: '401 INVALID_TOKEN', path: () => '/api/me', token: () => tokenFor(USER, [], { expiresIn: '5m' }) },
    { name: 'a short-lived admin token on GET /api/admin/budget/status', want: '401 INVALID_TOKEN', path: () => '/api/admin/budget/status', token: () => tokenFor('root', ['admin'], { expiresIn: '5m' }) },
    { name: 'a short-lived token on a case variant of the stream path', want: '401 INVALID_TOKEN', path: (id) => `/api/JOBS/${id}/EVENTS`, token: () => tokenFor(USER, [], { expiresIn: '5m' }) },
    { name: 'a long-lived (1 h) token on the job stream', want: '401 INVALID_TOKEN', path: (id) => `/api/jobs/${id}/events`, token: () => tokenFor(USER) },
    { name: 'a long-lived (1 h) token on the notification stream', want: '401 INVALID_TOKEN', path: () => '/api/notifications/stream', token: () => tokenFor(USER) },
    { name: 'an expired short-lived token on the job stream', want: '401 TOKEN_EXPIRED', path: (id) => `/api/jobs/${id}/events`, token: () => tokenFor(USER, [], { issuedAt: now() - 600, expiresIn: now() - 120 }) },
    { name: 'alg none on the job stream', want: '401 INVALID_TOKEN', path: (id) => `/api/jobs/${id}/events`, token: () => unsigned('none', { sub: USER, exp: now() + 60 }) },
    { name: 'garbage on the job stream', want: '401 INVALID_TOKEN', path: (id) => `/api/jobs/${id}/events`, token: () => 'garbage' },
  ])('answers access_token with $name with $want', async ({ path, token, want }) => {
    const jobId = (await postJob({ type: 'demo.work', payload: { durationMs: 1 } })).body.jobId as string;
    baseline = new Set(await keysNow());
    const target = path(jobId);
    const res = await requestOnce('GET', url(`${target}${target.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(await token())}`), {
      headers: { authorization: '' },
    });
    expect(outcome(res)).toBe(want);
    if (want !== '200') apiErrorBodySchema.parse(res.body);
    await expectUnharmed();
  });

  it('refuses access_token given twice and on a POST, and enqueues nothing', async () => {
    const short = await tokenFor(USER, [], { expiresIn: '5m' });
    expectRefused(await requestOnce('GET', url(`/api/notifications/stream?access_token=${short}&access_token=${short}`), { headers: { authorization: '' } }), '401 INVALID_TOKEN');
    expectRefused(await requestOnce('POST', url(`/api/jobs?access_token=${short}`), { headers: { authorization: '' }, body: submission }), '401 INVALID_TOKEN');
    await expectUnharmed();
  });
});

describe("another user's job ids", () => {
  it('answers them exactly like a missing id on the snapshot, its alias, both streams and with a cursor', async () => {
    const alice = await authHeaders('alice');
    const mallory = await authHeaders('mallory');
    const jobId = (await postJob({ type: 'demo.work', payload: { durationMs: 1 } }, alice)).body.jobId as string;
    const missingId = randomUUID();
    const routes = [
      (id: string) => `/api/jobs/${id}`,
      (id: string) => `/api/job-status/${id}`,
      (id: string) => `/api/jobs/${id}/events`,
      (id: string) => `/api/job-events?jobId=${id}`,
      (id: string) => `/api/jobs/${id}/events?lastEventId=1-0`,
    ];
    for (const route of routes) {
      const other = await requestOnce('GET', url(route(jobId)), { headers: mallory });
      const missing = await requestOnce('GET', url(route(missingId)), { headers: mallory });
      expectRefused(other, '404 JOB_NOT_FOUND');
      expect(other.body).toEqual(JSON.parse(JSON.stringify(missing.body).replaceAll(missingId, jobId)));
      expect([...other.headers.keys()].sort()).toEqual([...missing.headers.keys()].sort());
      expect(other.headers.get('content-type')).toBe(missing.headers.get('content-type'));
    }
    const token = await tokenFor('mallory', [], { expiresIn: '5m' });
    expectRefused(await requestOnce('GET', url(`/api/jobs/${jobId}/events?access_token=${token}`), { headers: { authorization: '' } }), '404 JOB_NOT_FOUND');
    expect((await http('GET', url(`/api/jobs/${jobId}`), undefined, alice)).status).toBe(200);
  });

  it("gives a user who sends another user's idempotency key a job of their own, never the other's", async () => {
    const alice = await authHeaders('alice');
    const mallory = await authHeaders('mallory');
    const submissionWithKey = (durationMs: number) => ({ type: 'demo.work', payload: { durationMs }, idempotencyKey: 'shared-key' });
    const alices = await postJob(submissionWithKey(1), alice);
    const same = await postJob(submissionWithKey(1), mallory);
    const different = await postJob(submissionWithKey(2), mallory);
    expect([alices.status, same.status, different.status]).toEqual([202, 202, 409]);
    expect(same.body.jobId).not.toBe(alices.body.jobId);
    expect(same.headers.get('idempotent-replayed')).toBeNull();
    expectRefused(different, '409 IDEMPOTENCY_KEY_REUSED');
    expectRefused(await http('GET', url(`/api/jobs/${alices.body.jobId}`), undefined, mallory), '404 JOB_NOT_FOUND');
  });
});

describe('strings meant to inject SSE fields', () => {
  const lifecycleNames = new Set(['connected', 'waiting', 'delayed', 'active', 'progress', 'stalled', 'completed', 'failed', 'reset', 'heartbeat']);

  /** Every message: only known fields, one event and one data line (one-line JSON), at most one id and retry. */
  function expectWellFormed(messages: RawSseMessage[], eventNames: Set<string>): void {
    for (const message of messages) {
      const fields = message.map(([field]) => field);
      expect(fields.filter((f) => !['event', 'data', 'id', 'retry'].includes(f))).toEqual([]);
      expect(fields.filter((f) => f === 'event')).toHaveLength(1);
      expect(fields.filter((f) => f === 'data')).toHaveLength(1);
      expect(fields.filter((f) => f === 'id').length).toBeLessThanOrEqual(1);
      expect(fields.filter((f) => f === 'retry').length).toBeLessThanOrEqual(1);
      expect(eventNames.has(valueOf(message, 'event') ?? '')).toBe(true);
      expect(() => JSON.parse(valueOf(message, 'data') ?? '')).not.toThrow();
    }
  }
  const valueOf = (message: RawSseMessage, field: string): string | undefined => message.find(([f]) => f === field)?.[1];
  const dataOf = (message: RawSseMessage | undefined): any => JSON.parse(valueOf(message ?? [], 'data') ?? 'null');

  /** Strings a careless writer would turn into extra SSE lines, and other hostile but valid content. */
  const hostile = {
    fields: '\n\nevent: completed\ndata: {}\n\n',
    cr: '\r\rid: 1-0\r\rretry: 1\r',
    crlf: '\r\nevent: failed\r\ndata: {"willRetry":false}\r\n\r\n',
    comment: '\n: comment\n',
    separators: '\u2028\u2029\u0085',
    nul: 'a\u0000b',
    loneSurrogate: '\ud800',
    unicode: '😀 café ﷽',
    path: '../../etc/passwd',
    '\n\nevent: completed\n': 'a key with SSE lines',
    nested: ['\r\n\r\ndata: x', { '\n': '\r' }],
  };

  it('keeps a demo.work result full of SSE field lines inside one data line, live and replayed, and it round-trips exactly', async () => {
    worker = await startWorker(env);
    const idempotencyKey = `../..;"'<>\`$(id)%0d%0a{}`;
    const accepted = await postJob({ type: 'demo.work', payload: { durationMs: 50, steps: 2, result: hostile }, idempotencyKey });
    expect(accepted.status).toBe(202);
    const jobId = accepted.body.jobId as string;

    const textOf = async (headers: Record<string, string> = {}): Promise<string> => {
      const stream = await openSseText(url(`/api/jobs/${jobId}/events`), headers);
      await stream.ended;
      return stream.text;
    };
    const live = rawSseMessages(await textOf());
    expectWellFormed(live, lifecycleNames);
    expect(live.map((m) => valueOf(m, 'event'))).toEqual(['connected', 'waiting', 'active', 'progress', 'progress', 'completed']);
    expect(dataOf(live.at(-1)).result).toEqual(hostile);

    // A reconnect replays from the stored history: a second writer of the same bytes.
    const firstId = valueOf(live[1]!, 'id')!;
    const replayed = rawSseMessages(await textOf({ 'Last-Event-ID': firstId }));
    expectWellFormed(replayed, lifecycleNames);
    expect(replayed.map((m) => valueOf(m, 'event'))).toEqual(['connected', 'active', 'progress', 'progress', 'completed']);
    expect(dataOf(replayed.at(-1)).result).toEqual(hostile);

    expect((await http('GET', url(`/api/jobs/${jobId}`))).body.result).toEqual(hostile);
    const stored = JSON.parse((await redis.hget(keys.job(jobId), 'data')) ?? 'null');
    expect(stored).toMatchObject({ owner: USER, payload: { result: hostile } });
    const again = await postJob({ type: 'demo.work', payload: { durationMs: 50, steps: 2, result: hostile }, idempotencyKey });
    expect(again.body.jobId).toBe(jobId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('keeps a notification title, message and data with CR LF inside one data line, in the stream and the inbox', async () => {
    const service = await authHeaders('notifier', ['service']);
    const stream = await openSseText(url('/api/notifications/stream'));
    // Published before `connected`, the notification would reach the inbox only.
    await stream.waitFor((text) => text.includes('event: connected'));
    const sent = {
      userId: USER,
      type: 'chat.message',
      title: 'hi\r\n\r\nevent: job.completed\r\ndata: {}\r\n\r\nthere',
      // Both are trimmed when published: the injection attempts sit inside.
      message: 'start\n\nid: u=9999999999999-0\n\nretry: 1\n\nend',
      data: { '\r\nevent: x': '\n\ndata: y\n\n', list: ['\r', '\n', '\u2028'] },
    };
    const published = await http('POST', url('/api/notifications'), sent, service);
    expect(published.status).toBe(201);
    const text = await stream.waitFor((sofar) => rawSseMessages(sofar).some((m) => valueOf(m, 'event') === 'notification'));
    stream.close();
    const messages = rawSseMessages(text);
    const names = new Set(messages.map((m) => valueOf(m, 'event') ?? ''));
    expect([...names].filter((name) => !['connected', 'notification', 'unread_count', 'heartbeat'].includes(name))).toEqual([]);
    expectWellFormed(messages, names);
    const notification = dataOf(messages.find((m) => valueOf(m, 'event') === 'notification'));
    expect(notification).toMatchObject({ title: sent.title, message: sent.message, data: sent.data });
    for (const message of messages) expect(valueOf(message, 'id') ?? '').not.toMatch(/[\r\n]/);

    const inbox = await http('GET', url('/api/notifications'));
    expect(inbox.body.items[0]).toMatchObject({ id: published.body.id, title: sent.title, message: sent.message, data: sent.data });
  });
});
