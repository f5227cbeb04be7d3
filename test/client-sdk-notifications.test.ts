import type { ApiServer } from '@jobstream/api';
import {
  createClient,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
  type ConnectionState,
  type FetchLike,
  type NotificationItem,
  type NotificationWatch,
  type TokenRequest,
} from '@jobstream/client';
import { inboxPageSchema, markReadResponseSchema, notificationSchema, notificationStreamSchemas, readAllResponseSchema } from '@jobstream/contracts';
import type { WorkerService } from '@jobstream/worker';
import { randomUUID } from 'node:crypto';
import { tokenFor } from '../test-support/auth';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';

const newUser = (what: string): string => `sdk-${what}-${randomUUID()}`;
const nowS = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Everything a watch yields and every connection state it goes through, in order. */
function record(watch: NotificationWatch): { items: NotificationItem[]; states: ConnectionState[]; errors: unknown[] } {
  const seen = { items: [] as NotificationItem[], states: [] as ConnectionState[], errors: [] as unknown[] };
  watch.on('connection', (info) => seen.states.push(info.state));
  watch.on('error', (err) => seen.errors.push(err));
  watch.on('notification', (item) => seen.items.push(item));
  return seen;
}

/** The items' data parsed with the contract's schema of their name: what the SDK yields is what the contract describes. */
function expectContractShapes(items: NotificationItem[]): void {
  for (const item of items) expect(notificationStreamSchemas[item.event].parse(item.data)).toEqual(item.data);
}

/**
 * The global fetch, recording each request's URL and headers, with `cut()` aborting every
 * response still open: a dropped connection as a flaky network makes one. Requests still go to
 * the real api.
 */
function cuttableFetch(): { fetch: FetchLike; requests: { url: string; headers: Record<string, string> }[]; cut(): void } {
  const open = new Set<AbortController>();
  const requests: { url: string; headers: Record<string, string> }[] = [];
  return {
    requests,
    cut: () => open.forEach((c) => c.abort()),
    fetch: async (url, init = {}) => {
      requests.push({ url, headers: { ...(init.headers as Record<string, string>) } });
      const cutter = new AbortController();
      open.add(cutter);
      const signal = init.signal ? AbortSignal.any([init.signal, cutter.signal]) : cutter.signal;
      return globalThis.fetch(url, { ...init, signal });
    },
  };
}

describe("the client SDK's notification calls against the real api", () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let service: ReturnType<typeof createClient>;

  beforeAll(async () => {
    env = testEnv();
    api = await startApi(env);
    worker = await startWorker(env);
    service = createClient({ baseUrl: api.url, token: await tokenFor('sdk-publisher', ['service']) });
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  describe('the inbox, me() and publishing', () => {
    it('lists a service-published notification in the inbox, pages with the cursor, marks one read and then all read, every answer typed', async () => {
      const userId = newUser('inbox');
      const published = [];
      for (const title of ['first', 'second', 'third']) {
        published.push(await service.publishNotification({ userId, type: 'chat.message', title, message: `the ${title} one`, priority: 'high', category: 'chat', data: { n: title } }));
      }
      expect(published[0]).toMatchObject({ userId, type: 'chat.message', title: 'first', priority: 'high', severity: 'high', category: 'chat', data: { n: 'first' }, read: false });
      for (const n of published) expect(notificationSchema.parse(n)).toEqual(n);

      const inbox = createClient({ baseUrl: api.url, token: await tokenFor(userId) }).inbox;
      const page = await inbox.list({ limit: 2 });
      expect(inboxPageSchema.parse(page)).toEqual(page);
      expect(page.items.map((n) => n.title)).toEqual(['third', 'second']); // newest first
      expect(page.items[0]).toEqual(published[2]);
      expect(page.unreadCount).toBe(3);
      expect(page.nextCursor).toEqual(expect.any(String));
      const last = await inbox.list({ limit: 2, cursor: page.nextCursor ?? undefined });
      expect(last.items.map((n) => n.title)).toEqual(['first']);
      expect(last.nextCursor).toBeNull();

      const marked = await inbox.markRead(published[1]!.id);
      expect(markReadResponseSchema.parse(marked)).toEqual(marked);
      expect(marked).toEqual({ id: published[1]!.id, read: true, unreadCount: 2 });
      expect((await inbox.list({ unread: true })).items.map((n) => n.title)).toEqual(['third', 'first']);

      const all = await inbox.markAllRead();
      expect(readAllResponseSchema.parse(all)).toEqual(all);
      expect(all).toEqual({ updated: 2, unreadCount: 0 });
      expect(await inbox.list({ unread: true })).toEqual({ items: [], nextCursor: null, unreadCount: 0 });
    });

    it('marks an id that is not in the inbox with a NotFoundError NOTIFICATION_NOT_FOUND, also for another user\'s notification', async () => {
      const owner = newUser('owner');
      const stranger = createClient({ baseUrl: api.url, token: await tokenFor(newUser('stranger')) });
      const theirs = await service.publishNotification({ userId: owner, type: 'chat.message', title: 'private', message: 'not yours' });
      for (const id of [theirs.id, 'not-an-id']) {
        const err = await stranger.inbox.markRead(id).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NotFoundError);
        expect(err).toMatchObject({ status: 404, code: 'NOTIFICATION_NOT_FOUND' });
      }
    });

    it("answers me() with the caller's user id, sorted roles and the api's auth mode", async () => {
      const userId = newUser('me');
      expect(await createClient({ baseUrl: api.url, token: await tokenFor(userId) }).me()).toEqual({ userId, roles: [], authMode: 'jwt', topics: ['*'] });
      const ops = createClient({ baseUrl: api.url, token: await tokenFor('sdk-ops', ['service', 'admin']) });
      expect(await ops.me()).toEqual({ userId: 'sdk-ops', roles: ['admin', 'service'], authMode: 'jwt', topics: ['*'] });
    });

    it('refuses publishNotification from a plain user with a typed ForbiddenError, and the notification goes nowhere', async () => {
      const target = newUser('target');
      const plain = createClient({ baseUrl: api.url, token: await tokenFor(newUser('plain')) });
      const err = await plain.publishNotification({ userId: target, type: 'chat.message', title: 'spoof', message: 'from a plain user' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ForbiddenError);
      expect(err).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      const inbox = createClient({ baseUrl: api.url, token: await tokenFor(target) }).inbox;
      expect(await inbox.list()).toEqual({ items: [], nextCursor: null, unreadCount: 0 });
    });

    it('rejects a publish that names neither a user nor a topic: a compile error, and a ValidationError naming userId at run time', async () => {
      // @ts-expect-error the type requires exactly one of userId and topic
      const neither = service.publishNotification({ type: 'chat.message', title: 'to nobody', message: 'lost' });
      const err = await neither.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: [{ path: 'userId', message: expect.stringContaining('exactly one') }] });
    });
  });

  describe('watching notifications', () => {
    it('delivers a topic notification only to the watches that follow the topic, typed by the contract', async () => {
      const topic = `sdk-topic-${randomUUID().slice(0, 8)}`;
      const userId = newUser('topics');
      const client = createClient({ baseUrl: api.url, token: await tokenFor(userId) });
      const following = client.watchNotifications({ topics: [topic] });
      const other = client.watchNotifications();
      const withTopic = record(following);
      const without = record(other);
      try {
        await until('both connected', () => [withTopic, without].every((r) => r.items.some((i) => i.event === 'connected')));
        const connected = withTopic.items.find((i) => i.event === 'connected');
        expect(connected?.event === 'connected' && connected.data.channels).toEqual(['u', `t:${topic}`]);

        const sent = await service.publishNotification({ topic, type: 'news.posted', title: 'For the topic', message: 'live only', priority: 'urgent' });
        expect(sent).toMatchObject({ topic, severity: 'critical', read: false });
        expect(sent.userId).toBeUndefined();
        // A notification to the user afterwards: once both watches have it, the topic one would have arrived too.
        await service.publishNotification({ userId, type: 'chat.message', title: 'For the user', message: 'both see it' });
        await until('the user notification on both', () => [withTopic, without].every((r) => r.items.some((i) => i.event === 'notification' && i.data.title === 'For the user')));

        const titles = (r: { items: NotificationItem[] }) => r.items.flatMap((i) => (i.event === 'notification' ? [i.data.title] : []));
        expect(titles(withTopic)).toEqual(['For the topic', 'For the user']);
        expect(titles(without)).toEqual(['For the user']);
        const topicItem = withTopic.items.find((i) => i.event === 'notification' && i.data.topic === topic);
        expect(topicItem).toEqual({ event: 'notification', id: expect.any(String), data: sent });
        // The topic has no inbox: only the user's notification is there.
        expect((await client.inbox.list()).items.map((n) => n.title)).toEqual(['For the user']);
        expectContractShapes([...withTopic.items, ...without.items]);
      } finally {
        following.close();
        other.close();
      }
    });

    it("yields the caller's job events as typed job.* items, filtered on the server by job type and type", async () => {
      const userId = newUser('jobs');
      const client = createClient({ baseUrl: api.url, token: await tokenFor(userId) });
      const demo = client.watchNotifications({ jobType: 'demo.work', types: ['job.completed'] });
      const flashcards = client.watchNotifications({ jobType: ['flashcards.generate'] });
      const matching = record(demo);
      const notMatching = record(flashcards);
      try {
        await until('both connected', () => [matching, notMatching].every((r) => r.items.some((i) => i.event === 'connected')));
        const { jobId } = await client.enqueue('demo.work', { durationMs: 50, steps: 2 });
        await until('job.completed', () => matching.items.some((i) => i.event === 'job.completed'));
        const completed = matching.items.find((i) => i.event === 'job.completed');
        if (completed?.event !== 'job.completed') throw new Error('no job.completed item');
        expect(completed.data).toMatchObject({ jobId, jobType: 'demo.work', severity: expect.any(String) });
        // Narrowing on the name types the data as the completed event's: `result` is there.
        expect(completed.data.result).toMatchObject({ ok: true, steps: 2 });
        // Only what passes both filters (`unread_count` passes every filter; there is none here).
        expect(matching.items.map((i) => i.event)).toEqual(['connected', 'job.completed']);
        expect(notMatching.items.map((i) => i.event)).toEqual(['connected']);
        expectContractShapes(matching.items);
      } finally {
        demo.close();
        flashcards.close();
      }
    });
  });

  describe('an expired token', () => {
    it('is replaced once, at once, by getToken({ forceRefresh: true }) for a request and for a stream connect', async () => {
      const userId = newUser('refresh');
      const expired = await tokenFor(userId, [], { expiresIn: nowS() - 120 });
      const fresh = await tokenFor(userId);
      const asked: TokenRequest[] = [];
      const client = createClient({
        baseUrl: api.url,
        getToken: (request) => {
          asked.push(request);
          // A cache that still holds the expired token until it is told to refresh.
          return request.forceRefresh ? fresh : expired;
        },
      });
      expect(await client.me()).toMatchObject({ userId });
      expect(asked).toEqual([{ forceRefresh: false }, { forceRefresh: true }]);

      asked.length = 0;
      const watch = client.watchNotifications();
      const seen = record(watch);
      try {
        await until('connected', () => seen.items.some((i) => i.event === 'connected'));
        expect(asked).toEqual([{ forceRefresh: false }, { forceRefresh: true }]);
        // No failed attempt in between: no backoff, no `reconnecting`.
        expect(seen.states).toEqual(['connecting', 'live']);
      } finally {
        watch.close();
      }
    });

    it('stops a watch with UnauthorizedError TOKEN_EXPIRED when the refreshed token is expired too, after exactly two connects', async () => {
      const userId = newUser('stale');
      const expired = await tokenFor(userId, [], { expiresIn: nowS() - 120 });
      const net = cuttableFetch();
      const asked: boolean[] = [];
      const client = createClient({
        baseUrl: api.url,
        fetch: net.fetch,
        getToken: ({ forceRefresh }) => {
          asked.push(forceRefresh);
          return expired;
        },
      });
      const watch = client.watchNotifications();
      const seen = record(watch);
      await expect(watch.done).rejects.toBeInstanceOf(UnauthorizedError);
      expect(watch.error).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
      expect(seen.errors).toHaveLength(1);
      expect(asked).toEqual([false, true]);
      expect(net.requests).toHaveLength(2);
      expect(seen.states).toEqual(['connecting', 'closed']);
    });

    it('is final at once with a fixed token, which no second request could change', async () => {
      const net = cuttableFetch();
      const client = createClient({ baseUrl: api.url, fetch: net.fetch, token: await tokenFor(newUser('fixed'), [], { expiresIn: nowS() - 120 }) });
      const err = await client.me().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect(err).toMatchObject({ code: 'TOKEN_EXPIRED' });
      expect(net.requests).toHaveLength(1);
    });
  });
});

describe('a notification watch whose token expires while its stream is open', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };

  beforeAll(async () => {
    // No clock skew allowance, so that a token can expire within the test; a fast retry hint.
    env = testEnv({ JWT_CLOCK_SKEW_S: '0', SSE_RETRY_MS: '100' });
    api = await startApi(env);
  });

  afterAll(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('keeps streaming past the expiry (the api does not close it), then reconnects with a refreshed token and resumes', async () => {
    const userId = newUser('expiring');
    const service = createClient({ baseUrl: api.url, token: await tokenFor('sdk-publisher', ['service']) });
    const expiresAt = nowS() + 3;
    const shortLived = await tokenFor(userId, [], { expiresIn: expiresAt });
    const fresh = await tokenFor(userId);
    let cached = shortLived;
    const asked: boolean[] = [];
    const net = cuttableFetch();
    const client = createClient({
      baseUrl: api.url,
      fetch: net.fetch,
      getToken: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        if (forceRefresh) cached = fresh;
        return cached;
      },
    });
    const watch = client.watchNotifications();
    const seen = record(watch);
    const titles = () => seen.items.flatMap((i) => (i.event === 'notification' ? [i.data.title] : []));
    try {
      await until('connected', () => seen.items.some((i) => i.event === 'connected'));
      // Past the token's expiry, the open stream still delivers.
      await sleep((expiresAt + 1) * 1000 - Date.now());
      const refused = await createClient({ baseUrl: api.url, token: shortLived })
        .me()
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'TOKEN_EXPIRED' }); // the api's clock agrees: it has expired
      await service.publishNotification({ userId, type: 'chat.message', title: 'after expiry', message: 'still open' });
      await until('the notification after expiry', () => titles().includes('after expiry'));
      expect(watch.connectionState).toBe('live');
      const streamRequests = () => net.requests.filter((r) => r.url.includes('/api/notifications/stream'));
      expect(streamRequests()).toHaveLength(1);

      // The connection drops; a notification is published while the watch reconnects.
      net.cut();
      await service.publishNotification({ userId, type: 'chat.message', title: 'while away', message: 'replayed on resume' });
      await until('the notification published while away', () => titles().includes('while away'));

      // The first connect; at the reconnect the cached (expired) token, then a refreshed one at once.
      expect(asked).toEqual([false, false, true]);
      const [first, stale, renewed] = streamRequests();
      expect(streamRequests()).toHaveLength(3);
      expect(first?.headers.Authorization).toBe(`Bearer ${shortLived}`);
      expect(stale?.headers.Authorization).toBe(`Bearer ${shortLived}`);
      expect(renewed?.headers.Authorization).toBe(`Bearer ${fresh}`);
      expect(stale?.headers['Last-Event-ID']).toEqual(expect.any(String));
      expect(renewed?.headers['Last-Event-ID']).toBe(stale?.headers['Last-Event-ID']);
      expect(titles()).toEqual(['after expiry', 'while away']); // each once
      expect(seen.errors).toEqual([]);
      expect(seen.states.filter((s, i) => s !== seen.states[i - 1])).toEqual(['connecting', 'live', 'reconnecting', 'live']);
      expectContractShapes(seen.items);
    } finally {
      watch.close();
    }
  });
});
