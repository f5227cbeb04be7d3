import type { ApiServer } from '@jobstream/api';
import { withDefaultAuth } from '../test-support/auth';
import { http } from '../test-support/http';
import { startRedisServer, type RedisProcess } from '../test-support/redis-server';
import { startApi, testEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { as, countReached, named, notify, openStream, SERVICE } from './notifications-helpers';

/** Redis goes away under a running api with an open notification stream, then comes back. */
describe('a notification stream while Redis is unreachable', () => {
  let redis: RedisProcess;
  let api: ApiServer & { url: string };

  beforeAll(async () => {
    redis = await startRedisServer({ appendOnly: true });
    api = await startApi(testEnv({ REDIS_URL: redis.url, SSE_HEARTBEAT_MS: '200' }));
  });

  afterAll(async () => {
    await api?.close();
    await redis?.destroy();
  });

  it('stays open, tells new EventSource clients to retry, and delivers once what is published after Redis came back', async () => {
    const stream = await openStream(api.url, 'alice');
    const before = await notify(api.url, { userId: 'alice', title: 'Before' });
    await stream.waitFor(countReached(1));

    await redis.stop(true);
    const during = await http('POST', `${api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title: 'During', message: 'x' }, await as(SERVICE.userId, SERVICE.roles));
    expect(during.status).toBe(503);
    expect(during.body.code).toBe('REDIS_UNAVAILABLE');
    // A browser's EventSource gives up on any non-200, so a stream request gets a retry hint instead.
    const sse = await fetch(`${api.url}/api/notifications/stream`, { headers: await withDefaultAuth({ accept: 'text/event-stream' }) });
    expect(sse.status).toBe(200);
    expect(await sse.text()).toMatch(/^retry: \d+\n: REDIS_UNAVAILABLE/);

    await redis.restart();
    const after = await waitUntil('publishing to work again', async () => {
      const res = await http('POST', `${api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title: 'After', message: 'x' }, await as(SERVICE.userId, SERVICE.roles));
      return res.status === 201 ? (res.body as { id: string }) : undefined;
    }, 15_000, 100);

    await stream.waitFor(countReached(2));
    expect(named(stream.events, 'notification').map((e) => e.data.id)).toEqual([before.id, after.id]);
    expect(named(stream.events, 'reset')).toEqual([]);
    const ids = stream.events.filter((e) => e.id !== undefined && e.event !== 'heartbeat').map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    stream.close();
  });
});
