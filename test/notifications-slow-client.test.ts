import type { ApiServer } from '@jobstream/api';
import { NOTIFICATION_DATA_MAX_BYTES } from '@jobstream/contracts';
import { channelEntryFields, jobstreamKeys, type StreamEntry } from '@jobstream/runtime';
import { connectSse } from '../test-support/sse-client';
import { cleanupPrefix, startApi, testEnv, testRedisClient, testRedisUrl } from '../test-support/services';
import { withTimeout } from '../test-support/wait';
import { as, named, notify, openStream } from './notifications-helpers';

const MAX_BUFFER_BYTES = 4_096;
/** Close to the largest `data` a notification may carry, so few requests fill the socket buffers. */
const BLOB = 'x'.repeat(NOTIFICATION_DATA_MAX_BYTES - 100);
/** 16 MB: more than the kernel's socket buffers hold on both sides together (at most 4 + 6 MB by default). */
const PUBLISHED = 2_000;

/** The ids of the notifications in a user's channel, in the order the channel holds them. */
async function channelOrder(env: Record<string, string>, userId: string): Promise<string[]> {
  const redis = testRedisClient();
  try {
    const keys = jobstreamKeys({ prefix: env.QUEUE_PREFIX as string, name: env.QUEUE_NAME ?? 'jobs' });
    const entries = (await redis.xrange(keys.userChannel(userId), '-', '+')) as StreamEntry[];
    return entries.flatMap(([, fields]) => {
      const entry = channelEntryFields(fields);
      return entry.event === 'notification' && entry.data ? [(JSON.parse(entry.data) as { id: string }).id] : [];
    });
  } finally {
    redis.disconnect();
  }
}

/**
 * A user whose client stops reading its notification stream while a service keeps publishing to
 * them: the api stops queueing for that stream once SSE_MAX_BUFFER_BYTES is passed and closes it;
 * another user's stream keeps getting everything; the slow client resumes with Last-Event-ID and
 * gets exactly what it missed.
 */
describe('a notification stream whose client stops reading', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };

  beforeEach(async () => {
    // Channels keep every published entry, so the resume below is never answered with `reset`.
    env = testEnv({ SSE_MAX_BUFFER_BYTES: String(MAX_BUFFER_BYTES), NOTIFICATION_STREAM_MAX_LEN: String(PUBLISHED * 2) });
    api = await startApi(env);
  });

  afterEach(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('is closed once its buffer passes the cap while other streams keep everything, and resumes exactly', async () => {
    const slow = await openStream(api.url, 'slow-reader', { query: 'types=chat.message' });
    const reader = await openStream(api.url, 'reader', { query: 'types=chat.message' });
    slow.pause();

    // (A paused client cannot see the close: it learns of it when it reads again, below.)
    const publishedToSlow: string[] = [];
    const publishedToReader: string[] = [];
    while (publishedToSlow.length < PUBLISHED) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => notify(api.url, { userId: 'slow-reader', data: { blob: BLOB } })));
      publishedToSlow.push(...batch.map((n) => n.id as string));
      publishedToReader.push((await notify(api.url, { userId: 'reader', data: { n: publishedToReader.length } })).id as string);
    }

    // Ten at a time: the channel's order, not the order the requests were sent in, is the stream's.
    const slowOrder = await channelOrder(env, 'slow-reader');
    expect([...slowOrder].sort()).toEqual([...publishedToSlow].sort());

    // The reader got every notification meant for it, in order, while the other stream was cut.
    await reader.waitFor((events) => named(events, 'notification').length === publishedToReader.length, 10_000);
    expect(named(reader.events, 'notification').map((e) => e.data.id)).toEqual(publishedToReader);
    reader.close();

    // Reading again, the slow client finds its stream closed by the server (after at most what the
    // kernel still held: the server resets the connection, so usually nothing).
    slow.resume();
    await withTimeout('the slow stream to end', slow.ended, 10_000);
    const got = named(slow.events, 'notification');
    const gotIds = got.map((e) => e.data.id);
    expect(gotIds.length).toBeLessThan(slowOrder.length);
    expect(gotIds).toEqual(slowOrder.slice(0, gotIds.length));

    // Resuming after the last message it got delivers exactly the rest, once each.
    const lastId = got.at(-1)?.id ?? slow.events.find((e) => e.event === 'connected')?.id;
    expect(lastId).toBeDefined();
    const resumed = await connectSse(`${api.url}/api/notifications/stream?types=chat.message`, { ...(await as('slow-reader')), 'last-event-id': lastId! });
    const rest = slowOrder.slice(gotIds.length);
    await resumed.waitFor((events) => named(events, 'notification').length >= rest.length, 20_000);
    resumed.close();
    expect(named(resumed.events, 'reset')).toEqual([]);
    expect(named(resumed.events, 'notification').map((e) => e.data.id)).toEqual(rest);
    // 16 MB goes through HTTP, the api and Redis: on a loaded machine or a cluster that takes a while.
  }, 180_000);
});
