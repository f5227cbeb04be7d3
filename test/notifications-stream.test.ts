import type { ApiServer } from '@jobstream/api';
import { readHistory } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { Queue } from 'bullmq';
import { http } from '../test-support/http';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisClient, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { ADMIN, as, countReached, enqueueAs, jobEvents, keysFor, named, notify, openStream } from './notifications-helpers';

const without = (data: Record<string, unknown>, ...fields: string[]) =>
  Object.fromEntries(Object.entries(data).filter(([key]) => !fields.includes(key)));

describe('the notification stream', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;

  beforeEach(async () => {
    env = testEnv({ SSE_HEARTBEAT_MS: '300' });
    api = await startApi(env);
    worker = await startWorker(env);
  });

  afterEach(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it("carries every event of the user's jobs and none of another user's", async () => {
    const alice = await openStream(api.url, 'alice');
    const bob = await openStream(api.url, 'bob');
    const aliceJob = await enqueueAs(api.url, 'alice', { durationMs: 100, steps: 2 });
    const bobJob = await enqueueAs(api.url, 'bob', { durationMs: 50, steps: 1 });

    const done = (jobId: string) => (events: ReceivedEvent[]) => events.some((e) => e.event === 'job.completed' && e.data.jobId === jobId);
    await Promise.all([alice.waitFor(done(aliceJob)), bob.waitFor(done(bobJob))]);

    expect(jobEvents(alice.events).map((e) => e.event)).toEqual(['job.waiting', 'job.active', 'job.progress', 'job.progress', 'job.completed']);
    expect(jobEvents(alice.events).every((e) => e.data.jobId === aliceJob && e.data.jobType === 'demo.work')).toBe(true);
    expect(jobEvents(bob.events).map((e) => e.event)).toEqual(['job.waiting', 'job.active', 'job.progress', 'job.completed']);
    expect(jobEvents(bob.events).every((e) => e.data.jobId === bobJob)).toBe(true);

    // The same lifecycle data as the job's own stream, plus the job type and a severity.
    const own = await connectSse(`${api.url}/api/jobs/${aliceJob}/events`, await as('alice'));
    await own.ended;
    expect(jobEvents(alice.events).map((e) => without(e.data, 'jobType', 'severity'))).toEqual(own.lifecycle().map((e) => e.data));
    expect(named(alice.events, 'job.completed')[0]?.data.severity).toBe('low');
    alice.close();
    bob.close();
  });

  it('relays the events of a job without an owner into its history and to no channel', async () => {
    const redis = testRedisClient();
    const queue = new Queue('jobs', { connection: redis, prefix: env.QUEUE_PREFIX });
    try {
      const keys = keysFor(env);
      const job = await queue.add('demo.work', { payload: { durationMs: 10, steps: 0, failAttempts: 0 } });
      const history = await waitUntil('the job to complete', async () => {
        const read = await readHistory(redis, keys, job.id!);
        return read.last?.event === 'completed' ? read : undefined;
      });
      expect(history.events.map((e) => e.event)).toEqual(['waiting', 'active', 'completed']);
      const feed = (await redis.xrange(keys.feed, '-', '+')) as [string, string[]][];
      const pointers = feed.filter(([, fields]) => fields[1] === job.id);
      expect(pointers).toHaveLength(3);
      for (const [, fields] of pointers) expect(fields).not.toContain('c');
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('delivers a notification a service publishes live, followed by the new unread count, and files it in the inbox', async () => {
    const alice = await openStream(api.url, 'alice');
    const bob = await openStream(api.url, 'bob');
    const sent = await notify(api.url, { userId: 'alice', title: 'New message', message: 'line one\nline two', priority: 'high', category: 'chat', data: { room: 'general' } });
    expect(sent).toMatchObject({ userId: 'alice', type: 'chat.message', severity: 'high', category: 'chat', read: false, data: { room: 'general' } });

    await alice.waitFor(countReached(1));
    const [delivered] = named(alice.events, 'notification');
    expect(delivered?.data).toEqual(sent);
    expect(alice.events.map((e) => e.event).filter((e) => e !== 'heartbeat')).toEqual(['connected', 'notification', 'unread_count']);

    const inbox = await http('GET', `${api.url}/api/notifications`, undefined, await as('alice'));
    expect(inbox.status).toBe(200);
    expect(inbox.body).toEqual({ items: [sent], nextCursor: null, unreadCount: 1 });

    // Bob's own notification proves his stream was live all along; Alice's never reached it.
    await notify(api.url, { userId: 'bob' });
    await bob.waitFor(countReached(1));
    expect(named(bob.events, 'notification').map((e) => e.data.userId)).toEqual(['bob']);
    alice.close();
    bob.close();
  });

  it('sends unread_count whenever the count changes, and only then', async () => {
    const alice = await openStream(api.url, 'alice');
    expect(named(alice.events, 'connected')[0]?.data).toMatchObject({ userId: 'alice', unreadCount: 0, channels: ['u'] });
    const first = await notify(api.url, { userId: 'alice' });
    await notify(api.url, { userId: 'alice' });
    const headers = await as('alice');
    expect((await http('POST', `${api.url}/api/notifications/${first.id}/read`, {}, headers)).body).toEqual({ id: first.id, read: true, unreadCount: 1 });
    // Already read: nothing changes, nothing is sent.
    expect((await http('POST', `${api.url}/api/notifications/${first.id}/read`, {}, headers)).body).toEqual({ id: first.id, read: true, unreadCount: 1 });
    expect((await http('POST', `${api.url}/api/notifications/read-all`, {}, headers)).body).toEqual({ updated: 1, unreadCount: 0 });
    expect((await http('POST', `${api.url}/api/notifications/read-all`, {}, headers)).body).toEqual({ updated: 0, unreadCount: 0 });
    await notify(api.url, { userId: 'alice' });

    await alice.waitFor(countReached(1, 3));
    expect(named(alice.events, 'unread_count').map((e) => e.data.count)).toEqual([1, 2, 1, 0, 1]);
    alice.close();
  });

  it('filters on the server by type, severity and job type, letting unread_count through', async () => {
    const open = (query: string) => openStream(api.url, 'alice', { query });
    const [all, byType, bySeverity, byJobType, combined] = await Promise.all([
      open(''),
      open('types=job.completed,chat.message'),
      open('severity=high,critical'),
      open('jobType=demo.work'),
      open('types=notification&severity=critical'),
    ]);
    const ok = await enqueueAs(api.url, 'alice', { durationMs: 20 });
    const failing = await enqueueAs(api.url, 'alice', { durationMs: 10, failAttempts: 3 });
    await all.waitFor((events) => events.some((e) => e.event === 'job.failed' && e.data.jobId === failing && e.data.willRetry === false));
    await all.waitFor((events) => events.some((e) => e.event === 'job.completed' && e.data.jobId === ok));
    await notify(api.url, { userId: 'alice', type: 'chat.message', priority: 'normal' });
    await notify(api.url, { userId: 'alice', type: 'billing.overdue', priority: 'urgent' });
    const streams = [all, byType, bySeverity, byJobType, combined];
    await Promise.all(streams.map((s) => s.waitFor(countReached(2))));

    const seen = (events: ReceivedEvent[]) =>
      events.filter((e) => e.id !== undefined && e.event !== 'connected' && e.event !== 'heartbeat').map((e) => (e.event === 'notification' ? `notification:${e.data.type}` : e.event));
    expect(seen(byType.events)).toEqual(['job.completed', 'notification:chat.message', 'unread_count', 'unread_count']);
    // The final failure is high; the two that were retried are medium.
    expect(named(all.events, 'job.failed').map((e) => e.data.severity)).toEqual(['medium', 'medium', 'high']);
    expect(seen(bySeverity.events)).toEqual(['job.failed', 'unread_count', 'notification:billing.overdue', 'unread_count']);
    expect(seen(byJobType.events).filter((e) => !e.startsWith('job.'))).toEqual(['unread_count', 'unread_count']);
    expect(jobEvents(byJobType.events)).toHaveLength(jobEvents(all.events).length);
    expect(seen(combined.events)).toEqual(['unread_count', 'notification:billing.overdue', 'unread_count']);
    for (const s of streams) s.close();
  });

  it('gives admins the system events, such as a kill-switch change, and plain users none', async () => {
    const admin = await openStream(api.url, ADMIN.userId, { roles: ADMIN.roles });
    const alice = await openStream(api.url, 'alice');
    expect(named(admin.events, 'connected')[0]?.data.channels).toEqual(['u', 's']);
    expect(named(alice.events, 'connected')[0]?.data.channels).toEqual(['u']);

    const adminHeaders = await as(ADMIN.userId, ADMIN.roles);
    expect((await http('POST', `${api.url}/api/admin/budget/kill-switch`, { enabled: true, reason: 'notification test' }, adminHeaders)).status).toBe(200);
    expect((await http('POST', `${api.url}/api/admin/budget/kill-switch`, { enabled: false }, adminHeaders)).status).toBe(200);
    await admin.waitFor((events) => named(events, 'system.kill_switch').length === 2);
    expect(named(admin.events, 'system.kill_switch').map((e) => e.data)).toEqual([
      expect.objectContaining({ enabled: true, reason: 'notification test', changedBy: ADMIN.userId, severity: 'critical' }),
      expect.objectContaining({ enabled: false, changedBy: ADMIN.userId, severity: 'medium' }),
    ]);

    await notify(api.url, { userId: 'alice' });
    await alice.waitFor(countReached(1));
    expect(alice.events.filter((e) => e.event.startsWith('system.'))).toEqual([]);
    admin.close();
    alice.close();
  });

  it('delivers a notification published to a topic to the streams that follow it, and to no inbox', async () => {
    const alice = await openStream(api.url, 'alice', { query: 'topics=news,releases' });
    const bob = await openStream(api.url, 'bob');
    expect(named(alice.events, 'connected')[0]?.data.channels).toEqual(['u', 't:news', 't:releases']);
    const sent = await notify(api.url, { topic: 'news', type: 'news.published', title: 'Release 2.0', message: 'It is out' });
    expect(sent).toMatchObject({ topic: 'news', severity: 'medium' });
    expect(sent.userId).toBeUndefined();

    await alice.waitFor((events) => named(events, 'notification').length === 1);
    expect(named(alice.events, 'notification')[0]?.data).toEqual(sent);
    expect(named(alice.events, 'notification')[0]?.id).toMatch(/^u=\d+-\d+,t:news=\d+-\d+,t:releases=\d+-\d+$/);
    expect((await http('GET', `${api.url}/api/notifications`, undefined, await as('alice'))).body).toEqual({ items: [], nextCursor: null, unreadCount: 0 });

    await notify(api.url, { userId: 'bob' });
    await bob.waitFor(countReached(1));
    expect(named(bob.events, 'notification').map((e) => e.data.topic)).toEqual([undefined]);
    alice.close();
    bob.close();
  });

  it('sends the cursor with connected, so a client that reconnects before any event misses nothing', async () => {
    const first = await openStream(api.url, 'alice');
    const cursor = named(first.events, 'connected')[0]?.id;
    expect(cursor).toMatch(/^u=\d+-\d+$/);
    first.close();

    const missed = await notify(api.url, { userId: 'alice' });
    const resumed = await openStream(api.url, 'alice', { headers: { 'Last-Event-ID': cursor! } });
    await resumed.waitFor(countReached(1));
    expect(named(resumed.events, 'notification').map((e) => e.data.id)).toEqual([missed.id]);
    expect(named(resumed.events, 'reset')).toEqual([]);

    // The same from the query parameter, as a browser's first connect sends it.
    const viaQuery = await openStream(api.url, 'alice', { query: `lastEventId=${encodeURIComponent(cursor!)}` });
    await viaQuery.waitFor(countReached(1));
    expect(named(viaQuery.events, 'notification').map((e) => e.data.id)).toEqual([missed.id]);
    resumed.close();
    viaQuery.close();
  });

  it('moves the cursor past filtered-out events in heartbeats, so a reconnect does not replay them', async () => {
    const filtered = await openStream(api.url, 'alice', { query: 'types=job.failed' });
    await notify(api.url, { userId: 'alice' });
    await filtered.waitFor(countReached(1));
    const afterCount = filtered.events.at(-1)?.id;
    const jobId = await enqueueAs(api.url, 'alice', { durationMs: 10 });
    const watch = await connectSse(`${api.url}/api/jobs/${jobId}/events`, await as('alice'));
    await watch.ended;
    // The feed reader hands a batch to every stream in one pass: once the job's own stream ended,
    // the filtered stream has gone past all of the job's events, and its next heartbeat says so.
    const from = filtered.events.length;
    await filtered.waitFor((events) => events.slice(from).some((e) => e.event === 'heartbeat' && e.id !== undefined && e.id !== afterCount));
    const cursor = filtered.events.filter((e) => e.id !== undefined).at(-1)!.id!;
    filtered.close();

    const resumed = await openStream(api.url, 'alice', { headers: { 'Last-Event-ID': cursor } });
    await notify(api.url, { userId: 'alice' });
    await resumed.waitFor(countReached(2));
    expect(jobEvents(resumed.events)).toEqual([]);
    resumed.close();
  });

  it('answers bad filters with 400 VALIDATION_FAILED and a bad cursor with 400 INVALID_LAST_EVENT_ID', async () => {
    const headers = await as('alice');
    for (const query of ['severity=urgent', 'types=Job%20Done', 'topics=no%2Cspaces%20here', `jobType=${'x'.repeat(65)}`]) {
      const res = await http('GET', `${api.url}/api/notifications/stream?${query}`, undefined, headers);
      expect({ query, status: res.status, code: res.body.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
    for (const cursor of ['1700000000000-0', 'u=abc', 'u=1-0,u=2-0', 'x=1-0', 'u=1-0\r\nevent: reset']) {
      const res = await fetch(`${api.url}/api/notifications/stream?lastEventId=${encodeURIComponent(cursor)}`, { headers });
      expect({ cursor, status: res.status, code: ((await res.json()) as { code: string }).code }).toEqual({ cursor, status: 400, code: 'INVALID_LAST_EVENT_ID' });
    }
    expect((await http('GET', `${api.url}/api/notifications/stream`, undefined, { authorization: '' })).status).toBe(401);
  });
});
