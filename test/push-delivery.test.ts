import { loadConfig as loadWorkerConfig, type WorkerService } from '@jobstream/worker';
import { pushPayloadSchema } from '@jobstream/contracts';
import { jobstreamKeys, PushSubscriptions } from '@jobstream/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authHeaders } from '../test-support/auth';
import { startFakePushService, type FakePushService } from '../test-support/fake-push-service';
import { http } from '../test-support/http';
import { logSink, type LogSink } from '../test-support/log-sink';
import { vapidEnv } from '../test-support/push';
import { openSseText } from '../test-support/raw-http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

type Api = Awaited<ReturnType<typeof startApi>>;

describe('push delivery', () => {
  let env: TestEnv;
  let api: Api;
  let workers: WorkerService[];
  let fake: FakePushService;
  let redis: Redis;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let publisher: Record<string, string>;

  beforeAll(async () => {
    alice = await authHeaders('alice');
    bob = await authHeaders('bob');
    publisher = await authHeaders('notifier', ['service']);
  });

  async function start(overrides: Record<string, string> = {}, logs?: LogSink): Promise<void> {
    const vapid = vapidEnv();
    fake = await startFakePushService({ publicKey: vapid.VAPID_PUBLIC_KEY as string, subject: vapid.VAPID_SUBJECT as string });
    env = testEnv({ ...vapid, PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_BACKOFF_MS: '50', MAX_STREAMS_PER_USER: '10', STREAM_LEASE_TTL_MS: '3000', ...overrides });
    api = await startApi(env);
    workers = [await startWorker(env, logs?.logger)];
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  }

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await api.close();
    await fake.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  const keys = () => jobstreamKeys(loadWorkerConfig(env).queue);

  async function register(user: Record<string, string>, device: string): Promise<string> {
    const res = await http('POST', `${api.url}/api/push/subscriptions`, fake.device(device).subscription, user);
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  const notify = (userId: string, title: string) =>
    http('POST', `${api.url}/api/notifications`, { userId, type: 'chat.message', title, message: `message of ${title}` }, publisher);

  /** The push queue, read as a test sees it; closed with its connection. */
  async function withPushQueue<T>(read: (queue: Queue) => Promise<T>): Promise<T> {
    const connection = redis.duplicate();
    const queue = new Queue('jobs-push', { connection, prefix: env.QUEUE_PREFIX });
    try {
      return await read(queue);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }

  /** Whether the push dispatcher's cursor reached the newest entry of the live feed. */
  async function dispatcherPassedFeedEnd(): Promise<boolean> {
    const [newest] = await redis.xrevrange(keys().feed, '+', '-', 'COUNT', 1);
    const cursor = await redis.get(keys().pushCursor);
    if (!newest || !cursor) return false;
    const [ms, seq] = newest[0].split('-').map(Number) as [number, number];
    const [cms, cseq] = cursor.split('-').map(Number) as [number, number];
    return cms > ms || (cms === ms && cseq >= seq);
  }

  const pushesTo = (device: string) => fake.received.filter((push) => push.device === device);

  it("pushes the outcome of a user's job to each of their devices, signed with VAPID and encrypted for the device, and to nobody else", async () => {
    await start();
    await register(alice, 'alice-phone');
    await register(alice, 'alice-laptop');
    await register(bob, 'bob-phone');
    const job = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1, steps: 3 } }, alice);
    expect(job.status).toBe(202);

    await waitUntil('both of alice’s devices got the outcome', () => pushesTo('alice-phone').length > 0 && pushesTo('alice-laptop').length > 0);
    for (const device of ['alice-phone', 'alice-laptop']) {
      const [push] = pushesTo(device);
      expect(pushSubscriptionPayload(push?.payload)).toEqual({
        kind: 'job.completed',
        title: 'demo.work finished',
        body: 'Your job is done. Open it to see the result.',
        url: `/?job=${job.body.jobId}`,
        jobId: job.body.jobId,
        tag: `job-${job.body.jobId}`,
      });
      expect(push?.claims).toMatchObject({ aud: fake.url, sub: env.VAPID_SUBJECT });
    }
    // Bob's own job reaches Bob; by then the dispatcher had its chance to misroute Alice's.
    await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1 } }, bob);
    await waitUntil('bob’s outcome', () => pushesTo('bob-phone').length > 0);
    expect(pushesTo('bob-phone').map((p) => p.payload.jobId)).not.toContain(job.body.jobId);
    // Only outcomes: waiting, active and three progress events pushed nothing.
    expect(pushesTo('alice-phone')).toHaveLength(1);
    expect(fake.problems).toEqual([]);
  });

  it('pushes a failure only when no retry is left', async () => {
    await start();
    await register(alice, 'alice-phone');
    const job = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1, failAttempts: 3 } }, alice);
    expect(job.status).toBe(202);
    await waitUntil('the final failure', () => pushesTo('alice-phone').length > 0);
    const [push] = pushesTo('alice-phone');
    expect(push?.payload).toMatchObject({ kind: 'job.failed', jobId: job.body.jobId, title: 'demo.work failed' });
    // The first two attempts' failures (a retry was left) came before the final one in the feed: one push in all.
    expect(pushesTo('alice-phone')).toHaveLength(1);
  });

  it('pushes a notification addressed to the user, and not while the user has a stream open (PUSH_WHEN=offline)', async () => {
    await start();
    await register(alice, 'alice-phone');
    const stream = await openSseText(`${api.url}/api/notifications/stream`, alice);
    await stream.waitFor((text) => text.includes('event: connected'));
    expect((await notify('alice', 'while online')).status).toBe(201);
    await stream.waitFor((text) => text.includes('while online'));
    // The rule is judged when the dispatcher reads the event: keep the stream open until it has.
    await waitUntil('the dispatcher to pass the event', () => dispatcherPassedFeedEnd());
    stream.close();
    await waitUntil('the stream lease is given back', async () => (await redis.zcard(keys().streamLeases('alice'))) === 0);
    expect((await notify('alice', 'while offline')).status).toBe(201);
    await waitUntil('the offline notification', () => pushesTo('alice-phone').length > 0);
    // The feed is read in order: the first notification was judged before the second was pushed.
    expect(pushesTo('alice-phone').map((p) => p.payload.title)).toEqual(['while offline']);
    expect(pushesTo('alice-phone')[0]?.payload).toMatchObject({ kind: 'notification', body: 'message of while offline' });
  });

  it('pushes while a stream is open too with PUSH_WHEN=always', async () => {
    await start({ PUSH_WHEN: 'always' });
    await register(alice, 'alice-phone');
    const stream = await openSseText(`${api.url}/api/notifications/stream`, alice);
    await stream.waitFor((text) => text.includes('event: connected'));
    await notify('alice', 'while online');
    await waitUntil('the push', () => pushesTo('alice-phone').length > 0);
    stream.close();
  });

  it('removes a subscription the push service answers 410 Gone (and 404), and pushes to it no more', async () => {
    await start();
    const gone = await register(alice, 'alice-old-phone');
    await register(alice, 'alice-unknown');
    await register(alice, 'alice-phone');
    fake.answer('alice-old-phone', 410);
    fake.answer('alice-unknown', 404);
    await notify('alice', 'first');
    await waitUntil('the devices left', async () => (await http('GET', `${api.url}/api/push/subscriptions`, undefined, alice)).body.items.length === 1);
    const left = (await http('GET', `${api.url}/api/push/subscriptions`, undefined, alice)).body.items.map((s: { id: string }) => s.id);
    expect(left).not.toContain(gone);
    await notify('alice', 'second');
    await waitUntil('the second push', () => pushesTo('alice-phone').length === 2);
    expect([fake.attempts('alice-old-phone'), fake.attempts('alice-unknown')]).toEqual([1, 1]);
  });

  it('tries again after 503 and 429 and delivers once', async () => {
    await start();
    await register(alice, 'alice-phone');
    fake.answer('alice-phone', 503, 429);
    await notify('alice', 'eventually');
    await waitUntil('the push', () => pushesTo('alice-phone').length > 0);
    expect(fake.attempts('alice-phone')).toBe(3);
    expect(pushesTo('alice-phone')).toHaveLength(1);
  });

  it('gives up on a push service that never answers after PUSH_TIMEOUT_MS, and tries again', async () => {
    await start({ PUSH_TIMEOUT_MS: '300' });
    await register(alice, 'alice-phone');
    fake.answer('alice-phone', 0);
    await notify('alice', 'after a hang');
    await waitUntil('the push', () => pushesTo('alice-phone').length > 0);
    expect(fake.attempts('alice-phone')).toBe(2);
  });

  it('fits the payload in the 4 KB of Web Push whatever the notification holds', async () => {
    await start();
    await register(alice, 'alice-phone');
    // Each control character is six bytes of JSON (\u0001): 2,000 of them would be 12 KB.
    const res = await http('POST', `${api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title: '\u0002'.repeat(200), message: `x${'\u0001'.repeat(1_998)}x` }, publisher);
    expect(res.status).toBe(201);
    await waitUntil('the push', () => pushesTo('alice-phone').length > 0);
    expect(fake.problems).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(pushesTo('alice-phone')[0]?.payload))).toBeLessThanOrEqual(3_072);
  });

  it('does not push twice when a dispatcher starts again from an older cursor (a crash before it saved its cursor)', async () => {
    await start();
    await register(alice, 'alice-phone');
    const before = await redis.get(keys().pushCursor);
    await notify('alice', 'once');
    await waitUntil('the push', () => pushesTo('alice-phone').length === 1);
    // What a dispatcher that died after queueing but before saving its cursor leaves behind.
    await Promise.all(workers.map((w) => w.close()));
    await redis.set(keys().pushCursor, before ?? '0-0');
    workers = [await startWorker(env)];
    await notify('alice', 'after the restart');
    await waitUntil('the push after the restart', () => pushesTo('alice-phone').length >= 2);
    expect(pushesTo('alice-phone').map((p) => p.payload.title)).toEqual(['once', 'after the restart']);
  });

  it('drops the pushes of a user past PUSH_MAX_PER_USER_PER_MINUTE, and not those of other users', async () => {
    await start({ PUSH_MAX_PER_USER_PER_MINUTE: '2' });
    await register(alice, 'alice-phone');
    await register(bob, 'bob-phone');
    for (const n of [1, 2, 3, 4]) await notify('alice', `alice ${n}`);
    await notify('bob', 'bob 1');
    await waitUntil('bob’s push', () => pushesTo('bob-phone').length === 1);
    const queued = (await withPushQueue((queue) => queue.getJobs(['completed', 'active', 'waiting', 'delayed']))).filter((job) => job.data.userId === 'alice');
    expect(queued.map((job) => job.data.payload.title).sort()).toEqual(['alice 1', 'alice 2']);
  });

  /** A push limit counts in clock minutes: a test that needs one minute for all its pushes starts early in one. */
  async function earlyInAMinute(): Promise<void> {
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 50));
  }

  /** The worker's count of pushes not sent for `reason` (jobstream_push_skipped_total). */
  const skipped = async (reason: string): Promise<number> => {
    const text = await workers[0]!.operations.registry.getSingleMetricAsString('jobstream_push_skipped_total');
    return Number(new RegExp(`jobstream_push_skipped_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? Number.NaN);
  };

  it("drops a chatty device's pushes past PUSH_MAX_PER_DEVICE_PER_MINUTE while the user's other device still gets its pushes", async () => {
    await earlyInAMinute();
    await start({ PUSH_MAX_PER_DEVICE_PER_MINUTE: '2', PUSH_MAX_PER_USER_PER_MINUTE: '100' });
    const phone = await register(alice, 'alice-phone');
    for (const n of [1, 2]) await notify('alice', `alice ${n}`);
    await waitUntil('the phone’s two pushes', () => pushesTo('alice-phone').length === 2);
    // The laptop joins once the phone has used its minute: the user's next pushes reach the laptop only.
    await register(alice, 'alice-laptop');
    for (const n of [3, 4]) await notify('alice', `alice ${n}`);
    await waitUntil('the laptop’s two pushes', () => pushesTo('alice-laptop').length === 2);
    // The phone's jobs would have been queued in the same batches as the laptop's.
    const queuedForPhone = (await withPushQueue((queue) => queue.getJobs(['completed', 'active', 'waiting', 'delayed']))).filter((job) => job.data.subscriptionId === phone);
    expect(queuedForPhone.map((job) => job.data.payload.title).sort()).toEqual(['alice 1', 'alice 2']);
    expect(pushesTo('alice-phone').map((p) => p.payload.title)).toEqual(['alice 1', 'alice 2']);
    expect(pushesTo('alice-laptop').map((p) => p.payload.title)).toEqual(['alice 3', 'alice 4']);
    expect(await skipped('device_rate_limited')).toBe(2);
    expect(await skipped('rate_limited')).toBe(0);
  });

  it('refuses, for each device, a push whose request is over PUSH_MAX_PAYLOAD_BYTES, and says so in its log and metrics', async () => {
    const logs = logSink();
    await start({ PUSH_MAX_PAYLOAD_BYTES: '1024' }, logs);
    const phone = await register(alice, 'alice-phone');
    const laptop = await register(alice, 'alice-laptop');
    // 400 characters of three UTF-8 bytes each: 1,200 bytes of body alone.
    expect((await http('POST', `${api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title: 'big', message: '€'.repeat(400) }, publisher)).status).toBe(201);
    await notify('alice', 'small');
    await waitUntil('the small push on both devices', () => pushesTo('alice-phone').length === 1 && pushesTo('alice-laptop').length === 1);
    await waitUntil('both refusals counted', async () => (await skipped('oversized')) === 2);
    expect(fake.received.map((p) => p.payload.title)).toEqual(['small', 'small']);
    const refusals = logs.lines().filter((line) => line.msg === 'push refused for this device: its request is over PUSH_MAX_PAYLOAD_BYTES');
    expect(refusals.map((line) => line.subscriptionId).sort()).toEqual([phone, laptop].sort());
    for (const line of refusals) expect(line).toMatchObject({ level: 40, userId: 'alice', kind: 'web', maxBytes: 1024, bytes: expect.any(Number) });
    for (const line of refusals) expect(line.bytes as number).toBeGreaterThan(1024);
    expect(await skipped('device_rate_limited')).toBe(0);
  });

  it('sends nothing to an endpoint that resolves to a loopback address when its host is not allowed', async () => {
    await start({ PUSH_ALLOWED_HOSTS: 'localhost.jobstream.test' });
    // Registered directly: the api refuses such an endpoint; this is one whose name pointed elsewhere when it was registered.
    const device = fake.device('sneaky');
    await new PushSubscriptions(redis, keys(), 10).add('alice', { kind: 'web', endpoint: device.endpoint.replace('127.0.0.1', 'localhost'), keys: device.subscription.keys });
    await notify('alice', 'probe');
    await waitUntil('the push to be dropped', () => withPushQueue(async (queue) => (await queue.getJobCounts('failed')).failed === 1));
    expect(fake.attempts('sneaky')).toBe(0);
  });

  it('says so in its log and metrics when feed entries were trimmed before their pushes were dispatched', async () => {
    await start();
    await register(alice, 'alice-phone');
    await notify('alice', 'before the outage');
    await waitUntil('the push', () => pushesTo('alice-phone').length === 1);
    await Promise.all(workers.map((w) => w.close()));
    // While no worker ran, the feed moved on and its cap trimmed entries past the saved cursor.
    const cursor = await redis.get(keys().pushCursor);
    for (let n = 0; n < 3; n++) await redis.xadd(keys().feed, '*', 'x', String(n));
    await redis.xtrim(keys().feed, 'MAXLEN', 1);
    expect(cursor).not.toBeNull();
    workers = [await startWorker(env)];
    await waitUntil('the gap to be counted', async () =>
      (await workers[0]!.operations.registry.getSingleMetricAsString('jobstream_push_gaps_total')).includes('jobstream_push_gaps_total 1'),
    );
  });

  it('counts pushes by outcome and removed subscriptions in the worker metrics', async () => {
    await start();
    await register(alice, 'alice-phone');
    await register(alice, 'alice-gone');
    fake.answer('alice-gone', 410);
    await notify('alice', 'counted');
    await waitUntil('the push', () => pushesTo('alice-phone').length === 1);
    const metrics = workers[0]!.operations.registry;
    await waitUntil('the removal to be counted', async () => (await metrics.getSingleMetricAsString('jobstream_push_subscriptions_removed_total')).includes('kind="web"} 1'));
    const sends = await metrics.getSingleMetricAsString('jobstream_push_sends_total');
    expect(sends).toContain('jobstream_push_sends_total{kind="web",outcome="sent"} 1');
    expect(sends).toContain('jobstream_push_sends_total{kind="web",outcome="gone"} 1');
    expect(await metrics.getSingleMetricAsString('jobstream_push_latency_seconds')).toMatch(/jobstream_push_latency_seconds_count\{kind="web",outcome="sent"\} 1/);
    expect(await metrics.getSingleMetricAsString('jobstream_push_dispatcher_leader')).toMatch(/jobstream_push_dispatcher_leader 1/);
  });

  it("delivers to a React Native app's Expo token through Expo's endpoint, and removes a token Expo reports DeviceNotRegistered", async () => {
    const messages: { to: string; title: string; body: string; data: Record<string, unknown> }[] = [];
    const expo = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof messages)[number];
        messages.push(message);
        const gone = message.to === 'ExponentPushToken[uninstalled]';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: gone ? { status: 'error', message: 'not registered', details: { error: 'DeviceNotRegistered' } } : { status: 'ok', id: 'ticket-1' } }));
      });
    });
    expo.listen(0, '127.0.0.1');
    await once(expo, 'listening');
    try {
      await start({ EXPO_PUSH_URL: `http://127.0.0.1:${(expo.address() as AddressInfo).port}/--/api/v2/push/send` });
      for (const expoPushToken of ['ExponentPushToken[phone]', 'ExponentPushToken[uninstalled]']) {
        expect((await http('POST', `${api.url}/api/push/subscriptions`, { expoPushToken }, alice)).status).toBe(201);
      }
      await notify('alice', 'to the app');
      await waitUntil('both tokens tried', () => messages.length === 2);
      expect(messages.find((m) => m.to === 'ExponentPushToken[phone]')).toMatchObject({
        title: 'to the app',
        body: 'message of to the app',
        data: { kind: 'notification', url: expect.stringMatching(/^\/\?notification=/) },
      });
      await waitUntil('the uninstalled app removed', async () => (await http('GET', `${api.url}/api/push/subscriptions`, undefined, alice)).body.items.length === 1);
    } finally {
      expo.closeAllConnections();
      await new Promise((resolve) => expo.close(resolve));
    }
  });
});

function pushSubscriptionPayload(payload: unknown) {
  return pushPayloadSchema.strict().parse(payload);
}
