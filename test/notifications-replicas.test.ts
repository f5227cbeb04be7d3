import type { ApiServer } from '@jobstream/api';
import type { WorkerService } from '@jobstream/worker';
import { http } from '../test-support/http';
import type { ReceivedEvent } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisClient, testRedisUrl } from '../test-support/services';
import { as, countReached, enqueueAs, keysFor, named, notify, openStream } from './notifications-helpers';

const withIds = (events: ReceivedEvent[]) => events.filter((e) => e.id !== undefined && e.event !== 'connected' && e.event !== 'heartbeat');

/** Two api replicas (in-process) and a worker on one Redis. */
describe('notification streams across replicas', () => {
  let env: Record<string, string>;
  let apis: (ApiServer & { url: string })[];
  let worker: WorkerService;

  beforeEach(async () => {
    env = testEnv();
    apis = await Promise.all([startApi(env), startApi(env)]);
    worker = await startWorker(env);
  });

  afterEach(async () => {
    await worker.close();
    await Promise.all(apis.map((api) => api.close()));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const url = (i: number) => apis[i % apis.length]!.url;

  it('sends unread_count to a stream on one replica when a notification is marked read on another', async () => {
    const stream = await openStream(url(0), 'alice');
    const sent = await notify(url(1), { userId: 'alice' });
    await stream.waitFor(countReached(1));
    const read = await http('POST', `${url(1)}/api/notifications/${sent.id}/read`, {}, await as('alice'));
    expect(read.body).toEqual({ id: sent.id, read: true, unreadCount: 0 });
    await stream.waitFor(countReached(0, 1));
    expect(named(stream.events, 'unread_count').map((e) => e.data.count)).toEqual([1, 0]);
    stream.close();
  });

  it('resumes on another replica with Last-Event-ID, losing nothing and repeating nothing', async () => {
    const reference = await openStream(url(0), 'alice');
    let cursor = named(reference.events, 'connected')[0]!.id!;
    const jobId = await enqueueAs(url(1), 'alice', { durationMs: 1_500, steps: 15 });
    const publishing = (async () => {
      for (let i = 0; i < 10; i += 1) await notify(url(i), { userId: 'alice', title: `Message ${i}` });
    })();

    const received: ReceivedEvent[] = [];
    const finished = (events: ReceivedEvent[]) =>
      events.some((e) => e.event === 'job.completed' && e.data.jobId === jobId) && named(events, 'notification').length === 10;
    for (let round = 0; round < 100 && !finished(received); round += 1) {
      // Read a few events on one replica, drop the connection as a flaky network would, go on at the other.
      const stream = await openStream(url(round), 'alice', { headers: { 'Last-Event-ID': cursor } });
      await stream.waitFor((events) => withIds(events).length >= 3, 1_000).catch(() => undefined);
      stream.close();
      const got = withIds(stream.events);
      received.push(...got);
      cursor = got.at(-1)?.id ?? cursor;
    }
    await publishing;
    await reference.waitFor(finished);

    expect(finished(received)).toBe(true);
    expect(named(received, 'reset')).toEqual([]);
    const expected = withIds(reference.events).slice(0, received.length);
    expect(received.map((e) => [e.id, e.event, e.data])).toEqual(expected.map((e) => [e.id, e.event, e.data]));
    expect(new Set(received.map((e) => e.id)).size).toBe(received.length);
    reference.close();
  });

  it('sends reset when the channel no longer covers the cursor, then goes on from its end', async () => {
    const first = await openStream(url(0), 'alice');
    const cursor = named(first.events, 'connected')[0]!.id!;
    first.close();
    for (let i = 0; i < 6; i += 1) await notify(url(i), { userId: 'alice' });
    const redis = testRedisClient();
    try {
      await redis.xtrim(keysFor(env).userChannel('alice'), 'MAXLEN', 3);
    } finally {
      redis.disconnect();
    }

    const resumed = await openStream(url(1), 'alice', { headers: { 'Last-Event-ID': cursor } });
    await resumed.waitFor((events) => named(events, 'reset').length === 1);
    const [reset] = named(resumed.events, 'reset');
    expect(reset?.data).toMatchObject({ reason: 'history_unavailable', channel: 'u' });
    expect(reset?.id).not.toBe(cursor);
    await notify(url(0), { userId: 'alice', title: 'After the reset' });
    await resumed.waitFor(countReached(7));
    expect(named(resumed.events, 'notification').map((e) => e.data.title)).toEqual(['After the reset']);
    resumed.close();

    // The reset's id is covered: resuming from it neither resets again nor replays the trimmed past.
    const again = await openStream(url(0), 'alice', { headers: { 'Last-Event-ID': reset!.id! } });
    await again.waitFor(countReached(7));
    expect(again.events.filter((e) => e.event !== 'heartbeat').map((e) => e.event)).toEqual(['connected', 'notification', 'unread_count']);
    again.close();
  });

  it('treats a cursor newer than the channel, or of a channel that expired, as not covered', async () => {
    await notify(url(0), { userId: 'alice' });
    const future = await openStream(url(0), 'alice', { headers: { 'Last-Event-ID': 'u=99999999999999-0' } });
    await future.waitFor((events) => named(events, 'reset').length === 1);
    future.close();
    // Bob never had a channel: his cursor points into one that no longer exists.
    const gone = await openStream(url(1), 'bob', { headers: { 'Last-Event-ID': 'u=1700000000000-0' } });
    await gone.waitFor((events) => named(events, 'reset').length === 1);
    expect(named(gone.events, 'reset')[0]?.id).toBe('u=0-0');
    gone.close();
  });
});
