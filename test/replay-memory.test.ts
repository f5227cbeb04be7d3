import { loadConfig, type ApiServer } from '@jobstream/api';
import { notificationRequestSchema } from '@jobstream/contracts';
import { channelKey, HISTORY_FIELDS, notificationLimitsFrom, publishNotification, userChannelRef } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import type { Cluster, Redis } from 'ioredis';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { withDefaultAuth } from '../test-support/auth';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisClient, testRedisUrl } from '../test-support/services';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { waitUntil, withTimeout } from '../test-support/wait';
import { as, keysFor, named } from './notifications-helpers';

/** SSE_MAX_BUFFER_BYTES of these tests. */
const CAP = 64 * 1024;
/** Entries one replay page reads (REPLAY_PAGE_SIZE in services/api/src/sse/replaying-sink.ts). */
const PAGE = 100;
const STREAMS = 20;
/**
 * Histories of 8 MB: more than the kernel takes into the socket buffers of a client that does not
 * read (about 4 MB on loopback), so every replay has to wait for its client.
 */
const HISTORY_EVENTS = 2_000;
const EVENT_BYTES = 4_000;

/** V8's heap in use after full collections (gc() exposed at run time, so jest needs no flag). */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A client that sends its request and then never reads a byte of the answer. */
async function neverReading(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<Socket> {
  const { hostname, port } = new URL(baseUrl);
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Accept: text/event-stream'];
  for (const [name, value] of Object.entries(await withDefaultAuth(headers))) lines.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.pause();
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/**
 * Writes `count` progress events of about `bytes` each into a job's history, as the relay stores
 * them, with ids from `baseMs` (older than anything the relay writes for the job later).
 */
async function writeHistory(redis: Redis | Cluster, key: string, jobId: string, count: number, bytes: number, baseMs: number): Promise<string[]> {
  const blob = 'p'.repeat(bytes);
  const ids: string[] = [];
  const pipeline = redis.pipeline();
  for (let i = 0; i < count; i += 1) {
    const id = `${baseMs}-${i}`;
    ids.push(id);
    const data = { jobId, timestamp: new Date(baseMs).toISOString(), progress: { step: i, blob } };
    pipeline.xadd(key, id, HISTORY_FIELDS.event, 'progress', HISTORY_FIELDS.data, JSON.stringify(data));
  }
  await pipeline.exec();
  return ids;
}

/** The SSE bytes of one stored progress event of `bytes`, as a stream writes it. */
const eventSseBytes = (bytes: number): number => bytes + 250;

async function enqueueParked(apiUrl: string, payload: Record<string, unknown> = { durationMs: 600_000 }): Promise<string> {
  const res = await http('POST', `${apiUrl}/api/jobs`, { type: 'demo.work', payload });
  expect(res.status).toBe(202);
  return res.body.jobId as string;
}

/** Until every one of `count` streams of the api waits for its client to read. */
async function allWaitingForClients(api: ApiServer, count: number): Promise<void> {
  await waitUntil(`${count} replays waiting for their clients`, () => {
    const streams = api.hub.streams();
    return streams.length === count && streams.every((s) => s.waitingForClient);
  });
}

/** Until each of the api's `count` streams either waits for its client or has no replay running. */
async function replaysSettled(api: ApiServer, count: number): Promise<void> {
  await waitUntil(`the replays of ${count} streams to write what they can`, () => {
    const streams = api.hub.streams();
    return streams.length === count && streams.filter((s) => s.waitingForClient).length === api.hub.replays.running;
  });
}

/** Publishes `count` notifications of about `bytes` to `userId` the way the api does; resolves with their ids in order. */
async function publishMany(redis: Redis | Cluster, env: Record<string, string>, userId: string, count: number, bytes: number): Promise<string[]> {
  const config = loadConfig(env);
  const limits = notificationLimitsFrom(config.notifications, config.queue);
  const input = notificationRequestSchema.parse({ type: 'chat.message', title: 'Hello', message: 'You have mail', userId, data: { blob: 'n'.repeat(bytes) } });
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => publishNotification(redis, keysFor(env), input, limits)));
    ids.push(...batch.map((n) => n.id));
  }
  return ids;
}

/** Lifecycle ids in order, split at each `reset`. */
function segments(events: ReceivedEvent[]): string[][] {
  const out: string[][] = [[]];
  for (const e of events) {
    if (e.event === 'reset') out.push([]);
    else if (e.id !== undefined) out.at(-1)!.push(e.id);
  }
  return out;
}


describe('replays to clients that do not read', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService | undefined;
  let redis: Redis | Cluster;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    // No heartbeat within a test: one on a stream whose page is still unread would cut it as too slow.
    env = testEnv({
      SSE_MAX_BUFFER_BYTES: String(CAP),
      SSE_HEARTBEAT_MS: '300000',
      JOB_HISTORY_MAX_LEN: '5000',
      NOTIFICATION_STREAM_MAX_LEN: '5000',
    });
    redis = testRedisClient();
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await worker?.close();
    worker = undefined;
    await api?.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  /** Waits until the job completed and its `completed` event is the last one in its history. */
  async function completedWithHistory(jobId: string): Promise<void> {
    await waitUntil('the job to complete', async () => (await http('GET', `${api.url}/api/jobs/${jobId}`)).body.state === 'completed');
    await waitUntil('the completed event in the history', async () => {
      const [last] = await redis.xrevrange(keysFor(env).history(jobId), '+', '-', 'COUNT', 1);
      return last?.[1].includes('completed');
    });
  }

  it('hold about the cap plus one page per job stream, not the history, and a reading client still gets every event once', async () => {
    api = await startApi(env);
    const jobId = await enqueueParked(api.url);
    const ids = await writeHistory(redis, keysFor(env).history(jobId), jobId, HISTORY_EVENTS, EVENT_BYTES, Date.now() - 60_000);
    const heapBefore = heapAfterGc();

    for (let i = 0; i < STREAMS; i += 1) sockets.push(await neverReading(api.url, `/api/jobs/${jobId}/events`));
    await replaysSettled(api, STREAMS);

    // Each replay wrote pages until its client's socket stopped taking them, then waits: what the
    // api holds for the streams is bounded by a page each, not by the 8 MB history.
    const bound = STREAMS * (CAP + PAGE * eventSseBytes(EVENT_BYTES));
    const history = STREAMS * HISTORY_EVENTS * EVENT_BYTES;
    expect(api.hub.queuedBytes()).toBeLessThanOrEqual(bound);
    expect(heapAfterGc() - heapBefore).toBeLessThan(2 * bound);
    expect(bound).toBeLessThan(history / 5);
    // Operators see what the clients that do not read make the replica hold.
    const metricsText = (await http('GET', `${api.url}/metrics`)).body as string;
    const queued = Number(/^jobstream_sse_queued_bytes (\d+)$/m.exec(metricsText)?.[1]);
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThanOrEqual(bound);

    // Another client of the same job reads: it gets the whole history, each event once, in order.
    const reader = await connectSse(`${api.url}/api/jobs/${jobId}/events`);
    await reader.waitFor((events) => events.filter((e) => e.event === 'progress').length >= HISTORY_EVENTS, 30_000);
    reader.close();
    expect(reader.lifecycle().map((e) => e.id)).toEqual(ids);

    // Clients that go away end their replays: no loop waits on for a socket that is gone.
    for (const socket of sockets.splice(0)) socket.destroy();
    await waitUntil('every replay to stop', () => api.hub.size === 0 && api.hub.replays.running === 0);
  });

  it('hold about the cap plus one page per notification stream replaying a large channel, and a reading client gets each notification once', async () => {
    api = await startApi(env);
    // 8 MB of notifications (with their unread counts) in the user's channel.
    const published = await publishMany(redis, env, 'reader', 1_000, 8_000);
    const headers = { ...(await as('reader')), 'Last-Event-ID': 'u=0-0' };
    const heapBefore = heapAfterGc();

    for (let i = 0; i < STREAMS; i += 1) sockets.push(await neverReading(api.url, '/api/notifications/stream', headers));
    await replaysSettled(api, STREAMS);

    const bound = STREAMS * (CAP + PAGE * eventSseBytes(8_000));
    expect(api.hub.queuedBytes()).toBeLessThanOrEqual(bound);
    expect(heapAfterGc() - heapBefore).toBeLessThan(2 * bound);

    const reader = await connectSse(`${api.url}/api/notifications/stream`, headers);
    await reader.waitFor((events) => named(events, 'notification').length >= published.length, 30_000);
    reader.close();
    expect(named(reader.events, 'notification').map((e) => e.data.id)).toEqual(published);
    expect(named(reader.events, 'reset')).toEqual([]);

    for (const socket of sockets.splice(0)) socket.destroy();
    await waitUntil('every replay to stop', () => api.hub.size === 0 && api.hub.replays.running === 0);
  });

  it('drops live events past a page while the replay waits for its client, and reads them from the history: every event once, in order', async () => {
    api = await startApi(env);
    const jobId = await enqueueParked(api.url, { durationMs: 1_000, steps: 300 });
    const ids = await writeHistory(redis, keysFor(env).history(jobId), jobId, HISTORY_EVENTS, EVENT_BYTES, Date.now() - 60_000);
    const slow = await connectSse(`${api.url}/api/jobs/${jobId}/events`);
    slow.pause();
    await allWaitingForClients(api, 1);

    // The job runs while its stream waits: 300 and more live events, more than a page.
    worker = await startWorker(env);
    await completedWithHistory(jobId);

    slow.resume();
    await withTimeout('the stream to end after completed', slow.ended, 30_000);
    const stored = (await redis.xrange(keysFor(env).history(jobId), '-', '+')).map(([id]) => id);
    expect(stored.length).toBeGreaterThan(HISTORY_EVENTS + 300);
    expect(stored.slice(0, HISTORY_EVENTS)).toEqual(ids);
    expect(named(slow.events, 'reset')).toEqual([]);
    expect(slow.lifecycle().map((e) => e.id)).toEqual(stored);
    expect(slow.lifecycle().at(-1)?.event).toBe('completed');
  });

  it('turns history trimmed while the replay waits for its client into a reset, never a silent gap', async () => {
    env.JOB_HISTORY_MAX_LEN = '1200';
    api = await startApi(env);
    const jobId = await enqueueParked(api.url, { durationMs: 1_000, steps: 1_000 });
    const written = await writeHistory(redis, keysFor(env).history(jobId), jobId, HISTORY_EVENTS, EVENT_BYTES, Date.now() - 60_000);
    const slow = await connectSse(`${api.url}/api/jobs/${jobId}/events`);
    slow.pause();
    await allWaitingForClients(api, 1);

    // The relay trims the history to 1,200 events, most of them the job's 1,000 new ones: what is
    // left of the old ones starts far past what the paused client got so far (at most what the
    // socket buffers took, about 4 MB of the 8).
    worker = await startWorker(env);
    await completedWithHistory(jobId);
    const stored = (await redis.xrange(keysFor(env).history(jobId), '-', '+')).map(([id]) => id);
    expect(stored[0]).not.toBe(written[0]);

    slow.resume();
    await withTimeout('the stream to end after completed', slow.ended, 30_000);
    // Before the first reset: the start of the history, without a hole. A socket may take more while
    // the job still runs (a busy machine lets the kernel grow its buffers), so the replay can run
    // into the trimming again: each reset goes on from the oldest event stored then. Every segment
    // is a run of the history without a hole, and the last one ends with everything stored.
    const [before, ...after] = segments(slow.events);
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(before).toEqual(written.slice(0, before!.length));
    expect(before!.length).toBeLessThan(HISTORY_EVENTS);
    const history = [...written, ...stored.filter((id) => !written.includes(id))];
    for (const segment of after) {
      const start = history.indexOf(segment[0]!);
      expect(start).toBeGreaterThan(before!.length);
      expect(segment).toEqual(history.slice(start, start + segment.length));
    }
    expect(after.at(-1)!.slice(-stored.length)).toEqual(stored);
    for (const reset of named(slow.events, 'reset')) expect(reset.data).toMatchObject({ jobId, reason: 'history_unavailable', job: { jobId } });
  });

  it('turns a channel trimmed while the replay waits for its client into a reset of that channel, never a silent gap', async () => {
    env.NOTIFICATION_STREAM_MAX_LEN = '1200';
    api = await startApi(env);
    // 5 MB of notifications: more than the socket buffers of a client that does not read take.
    const first = await publishMany(redis, env, 'reader', 600, 8_000);
    const [oldest] = await redis.xrange(channelKey(keysFor(env), userChannelRef('reader')), '-', '+', 'COUNT', 1);
    const slow = await connectSse(`${api.url}/api/notifications/stream?types=chat.message`, { ...(await as('reader')), 'Last-Event-ID': `u=${oldest![0]}` });
    slow.pause();
    await allWaitingForClients(api, 1);

    // 900 more push the channel (capped at about 1,200 entries, two per notification) far past
    // what the paused client got.
    const more = await publishMany(redis, env, 'reader', 900, 8_000);
    const published = [...first, ...more];
    const kept = await redis.xrange(channelKey(keysFor(env), userChannelRef('reader')), '-', '+', 'COUNT', 1);
    expect(kept[0]![0]).not.toBe(oldest![0]);

    slow.resume();
    await slow.waitFor((events) => named(events, 'reset').length === 1, 30_000);
    await waitUntil('the replay to end', () => api.hub.replays.running === 0);
    slow.close();
    const notifications = named(slow.events, 'notification').map((e) => e.data.id);
    const resetAt = slow.events.findIndex((e) => e.event === 'reset');
    const before = slow.events.slice(0, resetAt).filter((e) => e.event === 'notification').map((e) => e.data.id);
    // The first notification is the cursor itself: the replay starts after it.
    expect(before).toEqual(published.slice(1, 1 + before.length));
    expect(before.length).toBeLessThan(published.length / 2);
    expect(notifications).toEqual(before);
    expect(slow.events[resetAt]?.data).toMatchObject({ reason: 'history_unavailable', channel: 'u' });
  });
});
