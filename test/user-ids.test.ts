import type { ApiServer } from '@jobstream/api';
import { Redis } from 'ioredis';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { requestOnce } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';

/*
 * A user id names the user's Redis keys. A JS string with an unpaired surrogate is not valid
 * Unicode: ioredis writes it as U+FFFD, so `carol\ud800` and `carol\udfff` would share one set of
 * keys. Such an id is refused wherever it comes in; a paired surrogate (an emoji) is fine.
 */

const LONE_HIGH = 'carol\ud800';
const LONE_LOW = 'carol\udfff';
const EMOJI = 'carol\ud83d\ude00';

/** Every key of the test's prefix, as Redis returns the names (on a cluster run they all live on this master). */
async function keysOf(prefix: string): Promise<string[]> {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}

describe('user ids that must survive the trip to Redis', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };

  beforeEach(async () => {
    env = testEnv();
    api = await startApi(env);
  });

  afterEach(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('refuses token subjects with an unpaired surrogate with 401 INVALID_TOKEN, and writes no key for them', async () => {
    const requests = [
      ['POST', '/api/jobs', { type: 'demo.work', payload: { durationMs: 1 } }],
      ['GET', '/api/notifications', undefined],
      ['POST', '/api/notifications/read-all', {}],
      ['GET', '/api/notifications/stream', undefined],
      ['GET', '/api/me', undefined],
    ] as const;
    for (const subject of [LONE_HIGH, LONE_LOW]) {
      const headers = await authHeaders(subject);
      for (const [method, path, body] of requests) {
        const res = await requestOnce(method, `${api.url}${path}`, { headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        expect({ method, path, status: res.status, code: res.body?.code }).toEqual({ method, path, status: 401, code: 'INVALID_TOKEN' });
        expect(res.body.error).toContain('no unpaired surrogates');
        expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      }
    }
    // A subject with a surrogate pair is valid Unicode: accepted, and its keys carry it unchanged.
    const emoji = await authHeaders(EMOJI);
    expect((await http('POST', `${api.url}/api/jobs`, requests[0][2], emoji)).status).toBe(202);
    expect((await http('GET', `${api.url}/api/me`, undefined, emoji)).body.userId).toBe(EMOJI);

    const keys = await keysOf(env.QUEUE_PREFIX);
    expect(keys.filter((key) => key.includes(EMOJI)).length).toBeGreaterThan(0);
    expect(keys.filter((key) => key.includes('\ufffd'))).toEqual([]);
  });

  it('refuses a publish to a user id no token can carry with 400 VALIDATION_FAILED naming userId', async () => {
    const service = await authHeaders('notifier', ['service']);
    const publish = (userId: string) => http('POST', `${api.url}/api/notifications`, { userId, type: 'chat.message', title: 't', message: 'm' }, service);
    for (const userId of [LONE_HIGH, LONE_LOW, 'carol\u0000', '']) {
      const res = await publish(userId);
      expect({ userId, status: res.status, code: res.body.code, path: res.body.details?.[0]?.path }).toEqual({ userId, status: 400, code: 'VALIDATION_FAILED', path: 'userId' });
    }
    const delivered = await publish(EMOJI);
    expect(delivered.status).toBe(201);
    const inbox = await http('GET', `${api.url}/api/notifications`, undefined, await authHeaders(EMOJI));
    expect(inbox.body.items.map((item: { id: string }) => item.id)).toEqual([delivered.body.id]);
    expect((await keysOf(env.QUEUE_PREFIX)).filter((key) => key.includes('\ufffd'))).toEqual([]);
  });
});
