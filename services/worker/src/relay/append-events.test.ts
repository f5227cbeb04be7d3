import {
  HISTORY_PACK_MAX_BYTES,
  JOB_HISTORY_FIELD,
  isCursorCovered,
  jobDataWithOwner,
  jobstreamKeys,
  readHistory,
  readHistoryEntries,
  streamIdTime,
  type JobstreamKeys,
  type RedisClient,
} from '@jobstream/runtime';
import { randomUUID } from 'node:crypto';
import { cleanupPrefix, testEnv, testRedisClient, testRedisUrl } from '../../../../test-support/services';
import { APPEND_FLAGS, createAppender, type AppendEvent, type AppendLimits } from './append-events';
import type { RelayedEvent } from './map-bull-event';

const LIMITS: AppendLimits = {
  feedMaxLen: 1_000,
  historyMaxLen: 100,
  retentionMs: 60_000,
  channelMaxLen: 100,
  channelRetentionMs: 120_000,
  historyPackMaxBytes: HISTORY_PACK_MAX_BYTES,
};
const TOKEN = 'relay-token';
const { expireHistory, expireChannel, final } = APPEND_FLAGS;

function event(jobId: string, id: string, name: 'waiting' | 'active' | 'completed'): RelayedEvent {
  const timestamp = streamIdTime(id);
  if (name === 'completed') return { jobId, id, event: name, data: { jobId, timestamp, result: { words: 'x'.repeat(60) }, duration: 4 } };
  return { jobId, id, event: name, data: { jobId, timestamp } };
}

describe('the relay append script', () => {
  let env: ReturnType<typeof testEnv>;
  let redis: RedisClient;
  let keys: JobstreamKeys;
  let append: ReturnType<typeof createAppender>;
  let jobId: string;

  beforeEach(async () => {
    env = testEnv();
    redis = testRedisClient() as RedisClient;
    keys = jobstreamKeys({ prefix: env.QUEUE_PREFIX, name: 'jobs' });
    append = createAppender(redis, keys, LIMITS);
    jobId = randomUUID();
    await redis.set(keys.relayLock, TOKEN);
    await redis.hset(keys.job(jobId), 'name', 'demo.work', 'data', JSON.stringify(jobDataWithOwner('alice', { payload: { n: 1 } })));
  });

  afterEach(async () => {
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it("packs a finished job's history into its job hash, with its entries and bounds, and deletes the stream", async () => {
    const base = Date.now();
    const ids = [`${base}-0`, `${base + 1}-0`, `${base + 2}-0`];
    await append(TOKEN, '0-0', ids[0]!, [{ event: event(jobId, ids[0]!, 'waiting'), owner: undefined, flags: expireHistory + expireChannel }]);
    await append(TOKEN, ids[0]!, ids[1]!, [{ event: event(jobId, ids[1]!, 'active'), owner: undefined, flags: '' }]);
    expect(await redis.xlen(keys.history(jobId))).toBe(2);
    const jobBytes = Number(await redis.memory('USAGE', keys.job(jobId), 'SAMPLES', 0));

    await append(TOKEN, ids[1]!, ids[2]!, [{ event: event(jobId, ids[2]!, 'completed'), owner: undefined, flags: final }]);

    expect(await redis.exists(keys.history(jobId))).toBe(0);
    // The three entries (one of them 100 bytes) cost the job hash much less than the ~900 bytes a
    // stream of them stored at its size does.
    expect(Number(await redis.memory('USAGE', keys.job(jobId), 'SAMPLES', 0)) - jobBytes).toBeLessThan(600);
    const read = await readHistory(redis, keys, jobId);
    expect(read.events.map((e) => [e.id, e.event])).toEqual([
      [ids[0], 'waiting'],
      [ids[1], 'active'],
      [ids[2], 'completed'],
    ]);
    expect(read.events[2]!.data).toEqual({ jobId, timestamp: streamIdTime(ids[2]!), result: { words: 'x'.repeat(60) }, duration: 4 });
    expect(read.bounds).toEqual({ firstId: ids[0], lastGeneratedId: ids[2], maxDeletedId: '0-0', removed: false });
    expect(read.last?.id).toBe(ids[2]);
    expect(isCursorCovered('0-0', read.bounds)).toBe(true);
    expect((await readHistory(redis, keys, jobId, ids[0], 1)).events.map((e) => e.id)).toEqual([ids[1]]);
    expect(await redis.exists(keys.relayCompact)).toBe(0);
  });

  it('keeps a finished history larger than the packing limit as a stream stored at its size, with its expiry', async () => {
    const base = Date.now();
    const progress = (n: number): AppendEvent => {
      const id = `${base}-${n}`;
      return { event: { jobId, id, event: 'progress', data: { jobId, timestamp: streamIdTime(id), progress: { note: 'y'.repeat(1_000), n } } }, owner: undefined, flags: '' };
    };
    const events = Array.from({ length: Math.ceil(HISTORY_PACK_MAX_BYTES / 1_000) + 1 }, (_, n) => progress(n));
    await append(TOKEN, '0-0', `${base}-${events.length - 1}`, events);
    const doneId = `${base + 1}-0`;
    await append(TOKEN, `${base}-${events.length - 1}`, doneId, [{ event: event(jobId, doneId, 'completed'), owner: undefined, flags: final }]);

    expect(await redis.hexists(keys.job(jobId), JOB_HISTORY_FIELD)).toBe(0);
    expect(await redis.xlen(keys.history(jobId))).toBe(events.length + 1);
    expect(await redis.pttl(keys.history(jobId))).toBeGreaterThan(LIMITS.retentionMs - 5_000);
    expect(await redis.exists(keys.relayCompact)).toBe(0);
    expect((await readHistory(redis, keys, jobId)).events).toHaveLength(events.length + 1);
  });

  it('keeps the history of a job whose hash is gone as a stream', async () => {
    const base = Date.now();
    await redis.del(keys.job(jobId));
    await append(TOKEN, '0-0', `${base}-0`, [{ event: event(jobId, `${base}-0`, 'completed'), owner: undefined, flags: expireHistory + final }]);
    expect(await redis.xlen(keys.history(jobId))).toBe(1);
    expect(await redis.pttl(keys.history(jobId))).toBeGreaterThan(LIMITS.retentionMs - 5_000);
  });

  it('reads a retried job as one history, its packed entries then its new stream, and packs the two together when it finishes again', async () => {
    const base = Date.now();
    const first = [`${base}-0`, `${base + 1}-0`, `${base + 2}-0`];
    await append(TOKEN, '0-0', first[2]!, [
      { event: event(jobId, first[0]!, 'waiting'), owner: undefined, flags: expireHistory },
      { event: event(jobId, first[1]!, 'active'), owner: undefined, flags: '' },
      { event: event(jobId, first[2]!, 'completed'), owner: undefined, flags: final },
    ]);
    const again = [`${base + 3}-0`, `${base + 4}-0`];
    await append(TOKEN, first[2]!, again[1]!, [
      { event: event(jobId, again[0]!, 'waiting'), owner: undefined, flags: expireHistory },
      { event: event(jobId, again[1]!, 'active'), owner: undefined, flags: '' },
    ]);

    const running = await readHistory(redis, keys, jobId);
    expect(running.events.map((e) => e.id)).toEqual([...first, ...again]);
    expect(running.bounds).toEqual({ firstId: first[0], lastGeneratedId: again[1], maxDeletedId: '0-0', removed: false });
    expect(running.last?.id).toBe(again[1]);
    expect((await readHistory(redis, keys, jobId, first[1], 2)).events.map((e) => e.id)).toEqual([first[2], again[0]]);
    const newestBefore = await readHistoryEntries(redis, keys, jobId, { from: '-', to: `(${again[0]!}`, count: 1, newestFirst: true });
    expect(newestBefore.map(([id]) => id)).toEqual([first[2]]);
    const across = await readHistoryEntries(redis, keys, jobId, { from: first[2]!, to: again[0]! });
    expect(across.map(([id]) => id)).toEqual([first[2], again[0]]);

    const doneId = `${base + 5}-0`;
    await append(TOKEN, again[1]!, doneId, [{ event: event(jobId, doneId, 'completed'), owner: undefined, flags: final }]);
    expect(await redis.exists(keys.history(jobId))).toBe(0);
    const done = await readHistory(redis, keys, jobId);
    expect(done.events.map((e) => e.id)).toEqual([...first, ...again, doneId]);
    expect(done.bounds).toEqual({ firstId: first[0], lastGeneratedId: doneId, maxDeletedId: '0-0', removed: false });
  });

  it('packs at most the history length limit, and says entries were removed', async () => {
    const append3 = createAppender(redis, keys, { ...LIMITS, historyMaxLen: 2 });
    const base = Date.now();
    const ids = [`${base}-0`, `${base}-1`, `${base}-2`];
    await append3(TOKEN, '0-0', ids[0]!, [{ event: event(jobId, ids[0]!, 'waiting'), owner: undefined, flags: expireHistory }]);
    await append3(TOKEN, ids[0]!, ids[1]!, [{ event: event(jobId, ids[1]!, 'active'), owner: undefined, flags: '' }]);
    await append3(TOKEN, ids[1]!, ids[2]!, [{ event: event(jobId, ids[2]!, 'completed'), owner: undefined, flags: final }]);
    const read = await readHistory(redis, keys, jobId);
    expect(read.events.map((e) => e.id)).toEqual(ids.slice(1));
    expect(read.bounds?.removed).toBe(true);
    expect(isCursorCovered('0-0', read.bounds)).toBe(false);
    expect(isCursorCovered(ids[0]!, read.bounds)).toBe(false);
    expect(isCursorCovered(ids[1]!, read.bounds)).toBe(true);
  });

  it("reads a job's owner from its hash once, then routes by the owner the relay passes", async () => {
    const base = Date.now();
    const first = await append(TOKEN, '0-0', `${base}-0`, [{ event: event(jobId, `${base}-0`, 'waiting'), owner: undefined, flags: expireChannel }]);
    expect(first?.found.get(jobId)).toEqual({ owner: 'alice', jobType: 'demo.work' });

    // Without the job hash, only the owner the relay remembered can route the event.
    await redis.del(keys.job(jobId));
    const second = await append(TOKEN, `${base}-0`, `${base + 1}-0`, [
      { event: event(jobId, `${base + 1}-0`, 'active'), owner: { owner: 'alice', jobType: 'demo.work' }, flags: '' },
    ]);
    expect(second?.found.size).toBe(0);

    const channel = (await redis.xrange(keys.userChannel('alice'), '-', '+')) as [string, string[]][];
    expect(channel.map(([, fields]) => fields.slice(0, 2).concat(fields.slice(4)))).toEqual([
      ['e', 'job.waiting', 'jt', 'demo.work'],
      ['e', 'job.active', 'jt', 'demo.work'],
    ]);
    const feed = (await redis.xrange(keys.feed, '-', '+')) as [string, string[]][];
    expect(feed.map(([, fields]) => fields[fields.indexOf('c') + 1])).toEqual(['u:alice', 'u:alice']);
  });

  it('sets the expiry of a channel it creates even when the relay does not ask, and only then', async () => {
    const owner = { owner: 'alice', jobType: 'demo.work' };
    const base = Date.now();
    await append(TOKEN, '0-0', `${base}-0`, [{ event: event(jobId, `${base}-0`, 'waiting'), owner, flags: '' }]);
    expect(await redis.pttl(keys.userChannel('alice'))).toBeGreaterThan(LIMITS.channelRetentionMs - 5_000);

    await redis.pexpire(keys.userChannel('alice'), 30_000);
    await append(TOKEN, `${base}-0`, `${base + 1}-0`, [{ event: event(jobId, `${base + 1}-0`, 'active'), owner, flags: '' }]);
    expect(await redis.pttl(keys.userChannel('alice'))).toBeLessThanOrEqual(30_000);
    await append(TOKEN, `${base + 1}-0`, `${base + 2}-0`, [{ event: event(jobId, `${base + 2}-0`, 'completed'), owner, flags: expireChannel }]);
    expect(await redis.pttl(keys.userChannel('alice'))).toBeGreaterThan(LIMITS.channelRetentionMs - 5_000);
  });

  it('adds nothing twice when a batch is sent again after its reply was lost', async () => {
    const base = Date.now();
    const batch: AppendEvent[] = [
      { event: event(jobId, `${base}-0`, 'waiting'), owner: undefined, flags: expireHistory + expireChannel },
      { event: event(jobId, `${base}-1`, 'active'), owner: undefined, flags: '' },
    ];
    expect((await append(TOKEN, '0-0', `${base}-1`, batch))?.appended).toBe(2);
    expect((await append(TOKEN, '0-0', `${base}-1`, batch))?.appended).toBe(0);

    expect(await redis.xlen(keys.history(jobId))).toBe(2);
    expect(await redis.xlen(keys.userChannel('alice'))).toBe(2);
    expect(await redis.xlen(keys.feed)).toBe(2);
    expect(await redis.get(keys.relayCursor)).toBe(`${base}-1`);
  });

  it("adds nothing twice when a batch that finished a job is sent again, after its history was packed", async () => {
    const base = Date.now();
    const batch: AppendEvent[] = [
      { event: event(jobId, `${base}-0`, 'waiting'), owner: undefined, flags: expireHistory + expireChannel },
      { event: event(jobId, `${base}-1`, 'completed'), owner: undefined, flags: final },
    ];
    expect((await append(TOKEN, '0-0', `${base}-1`, batch))?.appended).toBe(2);
    expect((await append(TOKEN, '0-0', `${base}-1`, batch))?.appended).toBe(0);

    expect(await redis.exists(keys.history(jobId))).toBe(0);
    expect((await readHistory(redis, keys, jobId)).events.map((e) => e.id)).toEqual([`${base}-0`, `${base}-1`]);
    expect(await redis.xlen(keys.userChannel('alice'))).toBe(2);
    expect(await redis.xlen(keys.feed)).toBe(2);
  });

  it('writes nothing for a relay that no longer holds the lock', async () => {
    const base = Date.now();
    await redis.set(keys.relayLock, 'another-relay');
    const result = await append(TOKEN, '0-0', `${base}-0`, [{ event: event(jobId, `${base}-0`, 'waiting'), owner: undefined, flags: expireHistory }]);
    expect(result).toBeUndefined();
    expect(await redis.exists(keys.history(jobId), keys.feed, keys.relayCursor)).toBe(0);
  });
});
