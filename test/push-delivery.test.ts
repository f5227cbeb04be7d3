import { pushPayloadSchema } from '@jobstream/contracts';
import { PushSubscriptions } from '@jobstream/runtime';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http } from '../test-support/http';
import { openSseText } from '../test-support/raw-http';
import { startWorker } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { usePushStack } from './push-helpers';

describe('push delivery', () => {
  const t = usePushStack();
  const { start, register, notify, pushesTo, withPushQueue, dispatcherPassedFeedEnd, keys } = t;

  it("pushes the outcome of a user's job to each of their devices, signed with VAPID and encrypted for the device, and to nobody else", async () => {
    await start();
    await register(t.alice, 'alice-phone');
    await register(t.alice, 'alice-laptop');
    await register(t.bob, 'bob-phone');
    const job = await http('POST', `${t.api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1, steps: 3 } }, t.alice);
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
      expect(push?.claims).toMatchObject({ aud: t.fake.url, sub: t.env.VAPID_SUBJECT });
    }
    // Bob's own job reaches Bob; by then the dispatcher had its chance to misroute Alice's.
    await http('POST', `${t.api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1 } }, t.bob);
    await waitUntil('bob’s outcome', () => pushesTo('bob-phone').length > 0);
    expect(pushesTo('bob-phone').map((p) => p.payload.jobId)).not.toContain(job.body.jobId);
    // Only outcomes: waiting, active and three progress events pushed nothing.
    expect(pushesTo('alice-phone')).toHaveLength(1);
    expect(t.fake.problems).toEqual([]);
  });

  it('pushes a failure only when no retry is left', async () => {
    await start();
    await register(t.alice, 'alice-phone');
    const job = await http('POST', `${t.api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1, failAttempts: 3 } }, t.alice);
    expect(job.status).toBe(202);
    await waitUntil('the final failure', () => pushesTo('alice-phone').length > 0);
    const [push] = pushesTo('alice-phone');
    expect(push?.payload).toMatchObject({ kind: 'job.failed', jobId: job.body.jobId, title: 'demo.work failed' });
    // The first two attempts' failures (a retry was left) came before the final one in the feed: one push in all.
    expect(pushesTo('alice-phone')).toHaveLength(1);
  });

  it('pushes a notification addressed to the user, and not while the user has a stream open (PUSH_WHEN=offline)', async () => {
    await start();
    await register(t.alice, 'alice-phone');
    const stream = await openSseText(`${t.api.url}/api/notifications/stream`, t.alice);
    await stream.waitFor((text) => text.includes('event: connected'));
    expect((await notify('alice', 'while online')).status).toBe(201);
    await stream.waitFor((text) => text.includes('while online'));
    // The rule is judged when the dispatcher reads the event: keep the stream open until it has.
    await waitUntil('the dispatcher to pass the event', () => dispatcherPassedFeedEnd());
    stream.close();
    await waitUntil('the stream lease is given back', async () => (await t.redis.zcard(keys().streamLeases('alice'))) === 0);
    expect((await notify('alice', 'while offline')).status).toBe(201);
    await waitUntil('the offline notification', () => pushesTo('alice-phone').length > 0);
    // The feed is read in order: the first notification was judged before the second was pushed.
    expect(pushesTo('alice-phone').map((p) => p.payload.title)).toEqual(['while offline']);
    expect(pushesTo('alice-phone')[0]?.payload).toMatchObject({ kind: 'notification', body: 'message of while offline' });
  });

  it('pushes while a stream is open too with PUSH_WHEN=always', async () => {
    await start({ PUSH_WHEN: 'always' });
    await register(t.alice, 'alice-phone');
    const stream = await openSseText(`${t.api.url}/api/notifications/stream`, t.alice);
    await stream.waitFor((text) => text.includes('event: connected'));
    await notify('alice', 'while online');
    await waitUntil('the push', () => pushesTo('alice-phone').length > 0);
    stream.close();
  });

  it('removes a subscription the push service answers 410 Gone (and 404), and pushes to it no more', async () => {
    await start();
    const gone = await register(t.alice, 'alice-old-phone');
    await register(t.alice, 'alice-unknown');
    await register(t.alice, 'alice-phone');
    t.fake.answer('alice-old-phone', 410);
    t.fake.answer('alice-unknown', 404);
    await notify('alice', 'first');
    await waitUntil('the devices left', async () => (await http('GET', `${t.api.url}/api/push/subscriptions`, undefined, t.alice)).body.items.length === 1);
    const left = (await http('GET', `${t.api.url}/api/push/subscriptions`, undefined, t.alice)).body.items.map((s: { id: string }) => s.id);
    expect(left).not.toContain(gone);
    await notify('alice', 'second');
    await waitUntil('the second push', () => pushesTo('alice-phone').length === 2);
    expect([t.fake.attempts('alice-old-phone'), t.fake.attempts('alice-unknown')]).toEqual([1, 1]);
  });

  it('tries again after 503 and 429 and delivers once', async () => {
    await start();
    await register(t.alice, 'alice-phone');
    t.fake.answer('alice-phone', 503, 429);
    await notify('alice', 'eventually');
    await waitUntil('the push', () => pushesTo('alice-phone').length > 0);
    expect(t.fake.attempts('alice-phone')).toBe(3);
    expect(pushesTo('alice-phone')).toHaveLength(1);
  });

  it('gives up on a push service that never answers after PUSH_TIMEOUT_MS, and tries again', async () => {
    await start({ PUSH_TIMEOUT_MS: '300' });
    await register(t.alice, 'alice-phone');
    t.fake.answer('alice-phone', 0);
    await notify('alice', 'after a hang');
    await waitUntil('the push', () => pushesTo('alice-phone').length > 0);
    expect(t.fake.attempts('alice-phone')).toBe(2);
  });

  it('does not push twice when a dispatcher starts again from an older cursor (a crash before it saved its cursor)', async () => {
    await start();
    await register(t.alice, 'alice-phone');
    const before = await t.redis.get(keys().pushCursor);
    await notify('alice', 'once');
    await waitUntil('the push', () => pushesTo('alice-phone').length === 1);
    // What a dispatcher that died after queueing but before saving its cursor leaves behind.
    await Promise.all(t.workers.map((w) => w.close()));
    await t.redis.set(keys().pushCursor, before ?? '0-0');
    t.workers = [await startWorker(t.env)];
    await notify('alice', 'after the restart');
    await waitUntil('the push after the restart', () => pushesTo('alice-phone').length >= 2);
    expect(pushesTo('alice-phone').map((p) => p.payload.title)).toEqual(['once', 'after the restart']);
  });

  it('sends nothing to an endpoint that resolves to a loopback address when its host is not allowed', async () => {
    await start({ PUSH_ALLOWED_HOSTS: 'localhost.jobstream.test' });
    // Registered directly: the api refuses such an endpoint; this is one whose name pointed elsewhere when it was registered.
    const device = t.fake.device('sneaky');
    await new PushSubscriptions(t.redis, keys(), 10).add('alice', { kind: 'web', endpoint: device.endpoint.replace('127.0.0.1', 'localhost'), keys: device.subscription.keys });
    await notify('alice', 'probe');
    await waitUntil('the push to be dropped', () => withPushQueue(async (queue) => (await queue.getJobCounts('failed')).failed === 1));
    expect(t.fake.attempts('sneaky')).toBe(0);
  });

  it('says so in its log and metrics when feed entries were trimmed before their pushes were dispatched', async () => {
    await start();
    await register(t.alice, 'alice-phone');
    await notify('alice', 'before the outage');
    await waitUntil('the push', () => pushesTo('alice-phone').length === 1);
    await Promise.all(t.workers.map((w) => w.close()));
    // While no worker ran, the feed moved on and its cap trimmed entries past the saved cursor.
    const cursor = await t.redis.get(keys().pushCursor);
    for (let n = 0; n < 3; n++) await t.redis.xadd(keys().feed, '*', 'x', String(n));
    await t.redis.xtrim(keys().feed, 'MAXLEN', 1);
    expect(cursor).not.toBeNull();
    t.workers = [await startWorker(t.env)];
    await waitUntil('the gap to be counted', async () =>
      (await t.workers[0]!.operations.registry.getSingleMetricAsString('jobstream_push_gaps_total')).includes('jobstream_push_gaps_total 1'),
    );
  });

  it('counts pushes by outcome and removed subscriptions in the worker metrics', async () => {
    await start();
    await register(t.alice, 'alice-phone');
    await register(t.alice, 'alice-gone');
    t.fake.answer('alice-gone', 410);
    await notify('alice', 'counted');
    await waitUntil('the push', () => pushesTo('alice-phone').length === 1);
    const metrics = t.workers[0]!.operations.registry;
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
        expect((await http('POST', `${t.api.url}/api/push/subscriptions`, { expoPushToken }, t.alice)).status).toBe(201);
      }
      await notify('alice', 'to the app');
      await waitUntil('both tokens tried', () => messages.length === 2);
      expect(messages.find((m) => m.to === 'ExponentPushToken[phone]')).toMatchObject({
        title: 'to the app',
        body: 'message of to the app',
        data: { kind: 'notification', url: expect.stringMatching(/^\/\?notification=/) },
      });
      await waitUntil('the uninstalled app removed', async () => (await http('GET', `${t.api.url}/api/push/subscriptions`, undefined, t.alice)).body.items.length === 1);
    } finally {
      expo.closeAllConnections();
      await new Promise((resolve) => expo.close(resolve));
    }
  });
});

function pushSubscriptionPayload(payload: unknown) {
  return pushPayloadSchema.strict().parse(payload);
}
