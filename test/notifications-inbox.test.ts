import type { ApiServer } from '@jobstream/api';
import { eventCatalogResponseSchema } from '@jobstream/contracts';
import { http } from '../test-support/http';
import { rawRequest } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisClient, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { ADMIN, as, keysFor, notify, SERVICE } from './notifications-helpers';

/** The inbox needs no worker: notifications come from the api itself. */
describe('the notification inbox', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };

  const start = async (overrides: Record<string, string> = {}) => {
    env = testEnv(overrides);
    api = await startApi(env);
  };

  afterEach(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const list = async (userId: string, query = '') => http('GET', `${api.url}/api/notifications${query}`, undefined, await as(userId));

  it('pages newest first with an opaque cursor, and filters the unread ones', async () => {
    await start();
    const sent = [];
    for (let i = 0; i < 5; i += 1) sent.push(await notify(api.url, { userId: 'alice', title: `Message ${i}` }));
    const newestFirst = [...sent].reverse().map((n) => n.id);

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await list('alice', `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.unreadCount).toBe(5);
      pages.push(res.body.items.map((n: { id: string }) => n.id));
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(newestFirst);

    const headers = await as('alice');
    for (const n of [sent[1], sent[3]]) expect((await http('POST', `${api.url}/api/notifications/${n!.id}/read`, {}, headers)).status).toBe(200);
    const unread = await list('alice', '?unread=true');
    expect(unread.body.items.map((n: { id: string }) => n.id)).toEqual([sent[4]!.id, sent[2]!.id, sent[0]!.id]);
    expect(unread.body.unreadCount).toBe(3);
    const everything = await list('alice');
    expect(everything.body.items.map((n: { read: boolean }) => n.read)).toEqual([false, true, false, true, false]);

    expect((await http('POST', `${api.url}/api/notifications/read-all`, {}, headers)).body).toEqual({ updated: 3, unreadCount: 0 });
    expect((await list('alice', '?unread=true')).body).toEqual({ items: [], nextCursor: null, unreadCount: 0 });
    // Another user's inbox is their own.
    expect((await list('bob')).body).toEqual({ items: [], nextCursor: null, unreadCount: 0 });
  });

  it('never holds more than INBOX_MAX_ITEMS: the oldest go first', async () => {
    await start({ INBOX_MAX_ITEMS: '3' });
    const sent = [];
    for (let i = 0; i < 5; i += 1) sent.push(await notify(api.url, { userId: 'alice', title: `Message ${i}` }));
    const res = await list('alice');
    expect(res.body.items.map((n: { id: string }) => n.id)).toEqual([sent[4]!.id, sent[3]!.id, sent[2]!.id]);
    expect(res.body.unreadCount).toBe(3);

    const redis = testRedisClient();
    try {
      const inbox = keysFor(env).inbox('alice');
      expect([await redis.zcard(inbox.all), await redis.zcard(inbox.unread), await redis.hlen(inbox.data)]).toEqual([3, 3, 3]);
    } finally {
      redis.disconnect();
    }
  });

  it('lets items expire after NOTIFICATION_RETENTION_SECONDS and removes them on the next write', async () => {
    await start({ NOTIFICATION_RETENTION_SECONDS: '1' });
    const old = await notify(api.url, { userId: 'alice', title: 'Soon gone' });
    expect((await list('alice')).body.items.map((n: { id: string }) => n.id)).toEqual([old.id]);
    await waitUntil('the item to expire', async () => (await list('alice')).body.items.length === 0, 5_000, 100);
    expect((await list('alice')).body.unreadCount).toBe(0);
    // The expired item cannot be marked read any more.
    expect((await http('POST', `${api.url}/api/notifications/${old.id}/read`, {}, await as('alice'))).status).toBe(404);

    const fresh = await notify(api.url, { userId: 'alice', title: 'Still here' });
    const redis = testRedisClient();
    try {
      const keys = keysFor(env);
      const inbox = keys.inbox('alice');
      expect(await redis.hkeys(inbox.data)).toEqual([fresh.id]);
      // Every key of the inbox and the channel expires by itself when nothing new arrives.
      for (const key of [inbox.all, inbox.unread, inbox.data, keys.userChannel('alice')]) {
        const ttl = await redis.pttl(key);
        expect({ key, expires: ttl > 0 && ttl <= 1_000 }).toEqual({ key, expires: true });
      }
    } finally {
      redis.disconnect();
    }
  });

  it('marks read on a POST without a body, as `curl -X POST` sends it, and still refuses a body that is not JSON', async () => {
    await start();
    const first = await notify(api.url, { userId: 'dora' });
    await notify(api.url, { userId: 'dora' });
    const headers = await as('dora');
    const one = await rawRequest(api.url, 'POST', `/api/notifications/${first.id as string}/read`, { headers });
    expect(one.status).toBe(200);
    expect(JSON.parse(one.text)).toMatchObject({ id: first.id, read: true, unreadCount: 1 });
    const all = await rawRequest(api.url, 'POST', '/api/notifications/read-all', { headers });
    expect(JSON.parse(all.text)).toEqual({ updated: 1, unreadCount: 0 });
    const text = await rawRequest(api.url, 'POST', '/api/notifications/read-all', { headers: { ...headers, 'Content-Type': 'text/plain' }, body: 'all' });
    expect(text.status).toBe(415);
  });

  it('answers 404 NOTIFICATION_NOT_FOUND for an unknown id, a malformed one, and another user’s', async () => {
    await start();
    const alices = await notify(api.url, { userId: 'alice' });
    const bob = await as('bob');
    for (const id of ['0000000000000000000000000', 'not-an-id', alices.id, '..%2F..%2Fetc']) {
      const res = await http('POST', `${api.url}/api/notifications/${id}/read`, {}, bob);
      expect({ id, status: res.status, code: res.body.code }).toEqual({ id, status: 404, code: 'NOTIFICATION_NOT_FOUND' });
    }
    expect((await list('alice')).body.unreadCount).toBe(1);
  });

  it('lets only services and admins publish: a plain user gets 403 FORBIDDEN, nobody anonymous', async () => {
    await start();
    const body = { userId: 'alice', type: 'chat.message', title: 'Hi', message: 'Hello' };
    const user = await http('POST', `${api.url}/api/notifications`, body, await as('mallory'));
    expect(user.status).toBe(403);
    expect(user.body.code).toBe('FORBIDDEN');
    const anonymous = await http('POST', `${api.url}/api/notifications`, body, { authorization: '' });
    expect(anonymous.status).toBe(401);
    expect((await http('POST', `${api.url}/api/notifications`, body, await as(ADMIN.userId, ADMIN.roles))).status).toBe(201);
    expect((await http('POST', `${api.url}/api/notifications`, body, await as(SERVICE.userId, SERVICE.roles))).status).toBe(201);
    expect((await list('alice')).body.items).toHaveLength(2);
  });

  it('answers invalid publications and inbox queries with 400 and a stable code', async () => {
    await start();
    const service = await as(SERVICE.userId, SERVICE.roles);
    const valid = { userId: 'alice', type: 'chat.message', title: 'Hi', message: 'Hello' };
    const invalid: [string, unknown][] = [
      ['no addressee', { ...valid, userId: undefined }],
      ['both addressees', { ...valid, topic: 'news' }],
      ['a job event type', { ...valid, type: 'job.completed' }],
      ['a system event type', { ...valid, type: 'system.alert' }],
      ['a stream message name', { ...valid, type: 'unread_count' }],
      ['an empty title', { ...valid, title: '   ' }],
      ['an unknown priority', { ...valid, priority: 'extreme' }],
      ['an unknown field', { ...valid, read: true }],
      ['data that is not an object', { ...valid, data: [1, 2] }],
      ['data too large', { ...valid, data: { blob: 'x'.repeat(9_000) } }],
      ['a topic with a comma', { ...valid, userId: undefined, topic: 'a,b' }],
      ['a user id with a newline', { ...valid, userId: 'alice\nadmin' }],
      ['a scalar body', 42],
    ];
    for (const [what, body] of invalid) {
      const res = await http('POST', `${api.url}/api/notifications`, body, service);
      expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status: 400, code: 'VALIDATION_FAILED' });
    }
    for (const query of ['?limit=0', '?limit=101', '?limit=ten', '?unread=maybe', '?page=2']) {
      const res = await list('alice', query);
      expect({ query, status: res.status, code: res.body.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
    for (const cursor of ['nonsense', Buffer.from('0000000000000000000000000!').toString('base64url')]) {
      const res = await list('alice', `?cursor=${cursor}`);
      expect({ cursor, status: res.status, code: res.body.code }).toEqual({ cursor, status: 400, code: 'INVALID_CURSOR' });
    }
    const readBody = await http('POST', `${api.url}/api/notifications/read-all`, { everything: true }, await as('alice'));
    expect(readBody.status).toBe(400);
    expect((await list('alice')).body.items).toEqual([]);
  });

  it('lists every event type in the public catalog, each with a severity and a JSON Schema', async () => {
    await start();
    const res = await http('GET', `${api.url}/api/events/catalog`, undefined, { authorization: '' });
    expect(res.status).toBe(200);
    const types = res.body.events.map((e: { type: string }) => e.type).sort();
    expect(types).toEqual(
      [
        'connected', 'heartbeat', 'reset', 'unread_count', 'notification',
        'job.waiting', 'job.delayed', 'job.active', 'job.progress', 'job.stalled', 'job.completed', 'job.failed', 'job.cancelled',
        'system.alert', 'system.kill_switch', 'system.budget', 'system.circuit_breaker',
      ].sort(),
    );
    for (const entry of res.body.events) {
      expect(entry).toMatchObject({
        channel: expect.stringMatching(/^(user|user_or_topic|system|connection)$/),
        severity: expect.stringMatching(/^(low|medium|high|critical)$/),
        description: expect.any(String),
        schema: expect.objectContaining({ type: 'object', properties: expect.any(Object) }),
      });
    }
    const byType = Object.fromEntries(res.body.events.map((e: { type: string }) => [e.type, e]));
    expect(byType['job.completed'].schema.required).toEqual(expect.arrayContaining(['jobId', 'jobType', 'severity']));
    // A result over EVENT_RESULT_INLINE_MAX_BYTES is left out and marked; the client fetches the job.
    expect(Object.keys(byType['job.completed'].schema.properties)).toEqual(expect.arrayContaining(['result', 'resultOmitted', 'resultBytes']));
    expect(byType['job.cancelled'].schema.properties.by.enum).toEqual(['owner', 'admin']);
    expect(byType.notification.schema.properties.priority.enum).toEqual(['low', 'normal', 'high', 'urgent']);
    expect(byType['system.alert']).toMatchObject({ channel: 'system', schema: { properties: { status: { enum: ['started', 'resolved'] } } } });
  });

  it("lists a job stream's messages in the public catalog too, each with its kind and JSON Schema, beside the notification stream's", async () => {
    await start();
    const res = await http('GET', `${api.url}/api/events/catalog`, undefined, { authorization: '' });
    expect(res.status).toBe(200);
    eventCatalogResponseSchema.parse(res.body);
    const entries: { type: string; kind: string; schema: { properties: Record<string, unknown>; required?: string[] } }[] = res.body.jobStreamEvents;
    expect(entries.map((e) => `${e.type}:${e.kind}`)).toEqual([
      'connected:connection', 'heartbeat:connection', 'reset:connection',
      'waiting:lifecycle', 'delayed:lifecycle', 'active:lifecycle', 'progress:lifecycle', 'stalled:lifecycle',
      'completed:lifecycle', 'failed:lifecycle', 'cancelled:lifecycle',
    ]);
    const byType = Object.fromEntries(entries.map((e) => [e.type, e]));
    expect(byType.connected?.schema.required).toEqual(expect.arrayContaining(['jobId', 'job']));
    expect(Object.keys(byType.completed?.schema.properties ?? {})).toEqual(expect.arrayContaining(['result', 'resultOmitted', 'resultBytes', 'duration']));
    expect(byType.failed?.schema.required).toEqual(expect.arrayContaining(['error', 'attemptsMade', 'willRetry']));
    // The notification stream's entries keep their own list: no job stream message among them.
    expect(res.body.events.map((e: { type: string }) => e.type)).not.toContain('completed');
  });
});
