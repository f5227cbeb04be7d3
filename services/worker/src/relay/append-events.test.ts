import { jobDataWithOwner, jobstreamKeys, readHistory, streamIdTime, type JobstreamKeys, type RedisClient } from '@jobstream/runtime';
import { randomUUID } from 'node:crypto';
import { cleanupPrefix, testEnv, testRedisClient, testRedisUrl } from '../../../../test-support/services';
import { APPEND_FLAGS, createAppender, type AppendEvent, type AppendLimits } from './append-events';
import type { RelayedEvent } from './map-bull-event';

const LIMITS: AppendLimits = { feedMaxLen: 1_000, historyMaxLen: 100, retentionMs: 60_000, channelMaxLen: 100, channelRetentionMs: 120_000 };
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

  it("stores a finished job's history at its size, with its entries, bounds and expiry", async () => {
    const base = Date.now();
    const ids = [`${base}-0`, `${base + 1}-0`, `${base + 2}-0`];
    await append(TOKEN, '0-0', ids[0]!, [{ event: event(jobId, ids[0]!, 'waiting'), owner: undefined, flags: expireHistory + expireChannel }]);
    await append(TOKEN, ids[0]!, ids[1]!, [{ event: event(jobId, ids[1]!, 'active'), owner: undefined, flags: '' }]);
    // A stream's newest node is made with room for 4 KB, which three entries never fill.
    expect(Number(await redis.memory('USAGE', keys.history(jobId), 'SAMPLES', 0))).toBeGreaterThan(4_096);

    await append(TOKEN, ids[1]!, ids[2]!, [{ event: event(jobId, ids[2]!, 'completed'), owner: undefined, flags: final }]);

    expect(Number(await redis.memory('USAGE', keys.history(jobId), 'SAMPLES', 0))).toBeLessThan(1_024);
    const read = await readHistory(redis, keys, jobId);
    expect(read.events.map((e) => [e.id, e.event])).toEqual([
      [ids[0], 'waiting'],
      [ids[1], 'active'],
      [ids[2], 'completed'],
    ]);
    expect(read.events[2]!.data).toEqual({ jobId, timestamp: streamIdTime(ids[2]!), result: { words: 'x'.repeat(60) }, duration: 4 });
    expect(read.bounds?.firstId).toBe(ids[0]);
    expect(read.last?.id).toBe(ids[2]);
    expect(await redis.pttl(keys.history(jobId))).toBeGreaterThan(LIMITS.retentionMs - 5_000);
    expect(await redis.exists(keys.relayCompact)).toBe(0);
    const info = (await redis.xinfo('STREAM', keys.history(jobId))) as unknown[];
    expect(info[info.indexOf('entries-added') + 1]).toBe(3);
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

  it('writes nothing for a relay that no longer holds the lock', async () => {
    const base = Date.now();
    await redis.set(keys.relayLock, 'another-relay');
    const result = await append(TOKEN, '0-0', `${base}-0`, [{ event: event(jobId, `${base}-0`, 'waiting'), owner: undefined, flags: expireHistory }]);
    expect(result).toBeUndefined();
    expect(await redis.exists(keys.history(jobId), keys.feed, keys.relayCursor)).toBe(0);
  });
});
