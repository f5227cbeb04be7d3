import { loadConfig, type ApiServer } from '@jobstream/api';
import { apiErrorBodySchema } from '@jobstream/contracts';
import { jobstreamKeys, type JobstreamKeys } from '@jobstream/runtime';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { authHeaders, tokenFor, type TestRole } from '../test-support/auth';
import { http } from '../test-support/http';
import { requestOnce } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl, waitForApiQueueMetas, type TestEnv } from '../test-support/services';

/*
 * The generated part of the bad-input suite: fast-check throws arbitrary bodies, ids, cursors and
 * Authorization headers at a running api. The property is the same everywhere: the answer is a 2xx
 * or a 4xx whose body is the api's error shape (so its code is one of the contracts' errorCodes),
 * never a 5xx, and the server still answers /healthz afterwards. On failure fast-check prints the
 * seed and the path of the shrunk counterexample; FAST_CHECK_SEED (and FAST_CHECK_PATH) replay it.
 */

const USER = 'fuzz-user';

/** Keys BullMQ keeps next to the jobs under `<prefix>:<queue>:`: none of them may be read as a job. */
const BULLMQ_KEY_NAMES = ['events', 'meta', 'id', 'wait', 'active', 'completed', 'failed', 'delayed', 'paused', 'prioritized', 'stalled', 'stalled-check', 'limiter', 'marker', 'pc', 'de', 'repeat', 'metrics', 'js', '1'];

/** Runs per property, kept modest so the file stays well under 30 s. */
function params(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FAST_CHECK_SEED;
  const path = process.env.FAST_CHECK_PATH;
  return { numRuns, ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

let env: TestEnv;
let api: ApiServer & { url: string };
let redis: Redis;
let keys: JobstreamKeys;
let user: Record<string, string>;

beforeEach(async () => {
  // No enqueue rate limit and no stream cap: a run should reach the code under test, not a 429.
  env = testEnv({ BODY_LIMIT_BYTES: '16384', RATE_LIMIT_ENQUEUE_POINTS: '0', MAX_STREAMS_PER_USER: '0' });
  api = await startApi(env);
  keys = jobstreamKeys(loadConfig(env).queue);
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  user = await authHeaders(USER);
  await waitForApiQueueMetas(redis, env);
});

afterEach(async () => {
  await api.close();
  redis.disconnect();
  await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
});

const url = (path: string): string => `${api.url}${path}`;
const keysNow = async (): Promise<string[]> => (await redis.keys(`${env.QUEUE_PREFIX}*`)).sort();

/** The property: a 2xx, or a 4xx in the error shape; then the server still answers. */
async function expectCodedAnswer(res: { status: number; body: any }, request: string): Promise<void> {
  const ok = res.status >= 200 && res.status < 300;
  const refused = res.status >= 400 && res.status < 500 && apiErrorBodySchema.safeParse(res.body).success;
  if (!ok && !refused) throw new Error(`${request} was answered ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
  const health = await http('GET', url('/healthz'));
  if (health.status !== 200) throw new Error(`/healthz answered ${health.status} after ${request}`);
}

/** Printable latin-1 (what a header value may hold without Node's parser refusing the request itself). */
const headerChar = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((code) => String.fromCharCode(code));
const headerValue = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
/** Characters that make paths and queries interesting without being percent-encoded first. */
const pathChar = fc.constantFrom('%', '2', 'F', 'f', 'E', '0', 'A', 'a', '.', '/', ':', '-', '_', '~', '*', '+', ';', '=', '&', '@');

describe('generated bad input (fast-check)', () => {
  it('answers any JSON value, any text and any mutated valid submission posted as a job with 2xx or a coded 4xx', async () => {
    const demoPayload = fc.record(
      { durationMs: fc.integer({ min: 0, max: 1_000 }), steps: fc.integer({ min: 0, max: 5 }), result: fc.jsonValue({ maxDepth: 3 }) },
      { requiredKeys: ['durationMs'] },
    );
    const cardsPayload = fc.record(
      { content: fc.string({ minLength: 1, maxLength: 80 }), subject: fc.string({ minLength: 1, maxLength: 20 }), topic: fc.string({ minLength: 1, maxLength: 20 }), count: fc.integer({ min: 1, max: 50 }) },
      { requiredKeys: ['content', 'subject', 'topic'] },
    );
    const valid = fc.oneof(
      fc.record({ type: fc.constant('demo.work'), payload: demoPayload }),
      fc.record({ type: fc.constant('flashcards.generate'), payload: cardsPayload }),
    );
    const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: 'binary', maxLength: 40 }));
    const field = fc.constantFrom('type', 'payload', 'idempotencyKey', 'extra', '__proto__', 'payload.durationMs', 'payload.steps', 'payload.count', 'payload.content', 'payload.result');
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('set' as const), field, value: anyValue }),
      fc.record({ op: fc.constant('delete' as const), field, value: fc.constant(null) }),
    );
    const mutated = fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([submission, mutations]) => {
      const body = structuredClone(submission) as Record<string, any>;
      for (const { op, field: path, value } of mutations) {
        const [head, tail] = path.split('.') as [string, string | undefined];
        const target = tail === undefined ? body : body[head] !== null && typeof body[head] === 'object' ? body[head] : undefined;
        if (!target) continue;
        // defineProperty: `__proto__` becomes an own key, as JSON.parse makes it on the server.
        if (op === 'set') Object.defineProperty(target, tail ?? head, { value, enumerable: true, writable: true, configurable: true });
        else delete target[tail ?? head];
      }
      return JSON.stringify(body);
    });
    const bodies = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
      fc.string({ unit: 'binary', maxLength: 200 }),
      valid.map((submission) => JSON.stringify(submission)),
      mutated,
    );

    const accepted = new Set<string>();
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom('/api/jobs', '/api/ai/generate-flashcards'), async (body, path) => {
        const res = await requestOnce('POST', url(path), { headers: user, body });
        await expectCodedAnswer(res, `POST ${path} ${body.slice(0, 200)}`);
        if (res.status === 202) accepted.add(res.body.jobId as string);
      }),
      params(120),
    );

    // Nothing corrupted: every accepted job is readable, and its stored data starts with the owner (the relay's Lua reads it there).
    expect(accepted.size).toBeGreaterThan(0);
    for (const jobId of accepted) {
      expect((await http('GET', url(`/api/jobs/${jobId}`), undefined, user)).status).toBe(200);
      expect(await redis.hget(keys.job(jobId), 'data')).toMatch(new RegExp(`^\\{"owner":"${USER}","`));
    }
    const jobLike = (await keysNow()).filter((key) => /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.test(key.slice(env.QUEUE_PREFIX.length)));
    expect(jobLike.filter((key) => ![...accepted].some((jobId) => key.includes(jobId)))).toEqual([]);
  });

  it('answers any string as a job or notification id, in the path or the query, with 2xx or a coded 4xx and stores nothing', async () => {
    const before = await keysNow();
    const routes = fc.constantFrom(
      { method: 'GET', path: (id: string) => `/api/jobs/${id}` },
      { method: 'GET', path: (id: string) => `/api/job-status/${id}` },
      { method: 'GET', path: (id: string) => `/api/jobs/${id}/events` },
      { method: 'GET', path: (id: string) => `/api/job-events?jobId=${id}` },
      { method: 'POST', path: (id: string) => `/api/notifications/${id}/read` },
      { method: 'POST', path: (id: string) => `/api/jobs/${id}/cancel` },
      { method: 'POST', path: (id: string) => `/api/jobs/${id}/retry` },
    );
    const ids = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }).map((id) => encodeURIComponent(id)),
      fc.string({ unit: 'grapheme', maxLength: 40 }).map((id) => encodeURIComponent(id)),
      fc.string({ unit: pathChar, maxLength: 40 }),
      fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,130}$/),
      // Names of BullMQ's own keys next to the jobs', and ids shaped like jobstream's own.
      fc.constantFrom(...BULLMQ_KEY_NAMES),
      fc.uuid().map((id) => (id.length % 2 === 0 ? id.toUpperCase() : id)),
    );
    // No job exists in this test: whatever the id, no route may answer it with a job or a stream.
    const roles = fc.constantFrom<TestRole[]>([], ['admin'], ['service']);
    await fc.assert(
      fc.asyncProperty(routes, ids, roles, async (route, id, callerRoles) => {
        const path = route.path(id);
        const headers = callerRoles.length === 0 ? user : await authHeaders(USER, callerRoles);
        const res = await requestOnce(route.method, url(path), { headers, ...(route.method === 'POST' ? { body: '{}' } : {}) });
        await expectCodedAnswer(res, `${route.method} ${path}`);
        // (`/api/jobs/./` is the caller's job list once the URL is normalized: a route without an id.)
        const listsJobs = /^\/api\/jobs\/?$/.test(new URL(url(path)).pathname);
        if (res.status < 400 && !listsJobs) throw new Error(`${route.method} ${path} as ${callerRoles.join(',') || 'user'} named something: ${res.status}`);
      }),
      params(150),
    );
    expect(await keysNow()).toEqual(before);
  });

  it('answers any Last-Event-ID header or lastEventId query with 2xx or a coded 4xx on every stream', async () => {
    const jobId = (await http('POST', url('/api/jobs'), { type: 'demo.work', payload: { durationMs: 1 } }, user)).body.jobId as string;
    const before = await keysNow();
    const streams = fc.constantFrom(`/api/jobs/${jobId}/events`, `/api/job-events?jobId=${jobId}`, '/api/notifications/stream');
    const digits = fc.stringMatching(/^\d{0,20}$/);
    const cursorLike = fc
      .tuple(digits, fc.constantFrom('-', '', '--', '.', ',', '=', 'u=', ',s='), digits, fc.constantFrom('', ',t:news=0-0', ',u=1-0'))
      .map(([a, sep, b, tail]) => `${a}${sep}${b}${tail}`);
    const cursors = fc.oneof(cursorLike, headerValue(60));
    const carriers = fc.constantFrom('header', 'query');
    await fc.assert(
      fc.asyncProperty(streams, cursors, carriers, fc.string({ unit: 'binary', maxLength: 30 }), async (stream, cursor, carrier, queryNoise) => {
        const sep = stream.includes('?') ? '&' : '?';
        const path = carrier === 'query' ? `${stream}${sep}lastEventId=${encodeURIComponent(cursor + queryNoise)}` : stream;
        const headers = carrier === 'header' ? { ...user, 'Last-Event-ID': cursor } : user;
        const res = await requestOnce('GET', url(path), { headers });
        await expectCodedAnswer(res, `GET ${path} Last-Event-ID=${JSON.stringify(headers['Last-Event-ID'] ?? null)}`);
      }),
      params(120),
    );
    expect(await keysNow()).toEqual(before);
  });

  it('takes a token subject only when it survives the trip to Redis byte for byte, and answers any other with a coded 401', async () => {
    const before = await keysNow();
    const lone = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff');
    const subjects = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      fc.tuple(fc.string({ maxLength: 10 }), lone, fc.string({ maxLength: 10 })).map(([a, surrogate, b]) => `carol${a}${surrogate}${b}`),
      fc.string({ minLength: 250, maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(subjects, async (subject) => {
        const res = await requestOnce('GET', url('/api/me'), { headers: { authorization: `Bearer ${await tokenFor(subject)}` } });
        await expectCodedAnswer(res, `GET /api/me as ${JSON.stringify(subject)}`);
        if (res.status === 200) {
          const roundTrip = Buffer.from(subject, 'utf8').toString('utf8');
          if (res.body.userId !== subject || roundTrip !== subject) throw new Error(`${JSON.stringify(subject)} was taken as ${JSON.stringify(res.body.userId)}`);
        } else if (res.status !== 401) {
          throw new Error(`${JSON.stringify(subject)} was answered ${res.status}`);
        }
      }),
      params(120),
    );
    expect(await keysNow()).toEqual(before);
  });

  it('answers any Authorization header with 2xx or a coded 4xx, and never takes a tampered token for anyone else', async () => {
    const before = await keysNow();
    const token = await tokenFor(USER);
    const base64url = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'.split(''));
    const tampered = fc
      .tuple(fc.nat({ max: token.length - 1 }), base64url, fc.constantFrom('replace', 'insert', 'delete', 'truncate'))
      .map(([at, ch, op]) => {
        if (op === 'truncate') return token.slice(0, at);
        if (op === 'delete') return token.slice(0, at) + token.slice(at + 1);
        return token.slice(0, at) + ch + token.slice(op === 'replace' ? at + 1 : at);
      });
    const segments = token.split('.');
    const recombined = fc
      .tuple(fc.constantFrom(...segments, '', 'eyJhbGciOiJub25lIn0', 'e30'), fc.constantFrom(...segments, ''), fc.constantFrom(...segments, ''))
      .map((parts) => parts.join('.'));
    const authorization = fc.oneof(
      headerValue(120),
      headerValue(120).map((value) => `Bearer ${value}`),
      fc.tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Bearer\t', 'Basic ', 'Token ', ''), fc.oneof(tampered, recombined)).map(([scheme, value]) => scheme + value),
    );
    await fc.assert(
      fc.asyncProperty(authorization, async (header) => {
        const res = await requestOnce('GET', url('/api/me'), { headers: { authorization: header } });
        await expectCodedAnswer(res, `GET /api/me with Authorization ${JSON.stringify(header)}`);
        // A tampered token that still verifies can only be the same token (base64url has slack in its last character).
        if (res.status === 200) expect(res.body).toEqual({ userId: USER, roles: [], authMode: 'jwt', topics: ['*'] });
      }),
      params(150),
    );
    expect(await keysNow()).toEqual(before);
  });
});
