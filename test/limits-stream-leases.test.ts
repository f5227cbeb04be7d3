import { createLogger, jobstreamKeys, type RedisClient } from '@jobstream/runtime';
import { randomUUID } from 'node:crypto';
import { StreamLeases, type LeaseOutcome } from '../services/api/src/limits/stream-leases';
import { cleanupPrefix, testRedisClient, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

const logger = createLogger({ name: 'test', level: 'silent' });

function granted(outcome: LeaseOutcome): Extract<LeaseOutcome, { granted: true }> {
  if (!outcome.granted) throw new Error(`expected a lease, got a refusal (${outcome.held} held)`);
  return outcome;
}

/** Redis's clock in ms, the one the lease scripts use. */
async function redisNow(redis: RedisClient): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}

/** StreamLeases against a real Redis; each `holder()` stands for one api replica with its own connection. */
describe('per-user stream leases shared through Redis', () => {
  let prefix: string;
  let keys: ReturnType<typeof jobstreamKeys>;
  let holders: { leases: StreamLeases; redis: RedisClient; crashed?: boolean }[];
  let inspector: RedisClient;

  beforeEach(() => {
    prefix = `{test-${randomUUID()}}`;
    keys = jobstreamKeys({ prefix, name: 'jobs' });
    holders = [];
    inspector = testRedisClient();
  });

  afterEach(async () => {
    // A crashed holder's connection is gone: its release would wait for a reconnect (a cluster
    // client queues commands while it has no connection), so only its renewal timer is stopped.
    await Promise.all(holders.map((h) => (h.crashed ? void h.leases.stop() : h.leases.stop())));
    // Not twice: ioredis arms a 2 s timer on a second disconnect of a closed connection.
    for (const h of holders) if (h.redis.status !== 'end') h.redis.disconnect();
    inspector.disconnect();
    await cleanupPrefix(testRedisUrl(), prefix);
  });

  const holder = (maxPerUser: number, leaseTtlMs = 30_000): StreamLeases => {
    const redis = testRedisClient();
    const leases = new StreamLeases({ redis, keyOf: keys.streamLeases, maxPerUser, leaseTtlMs, logger });
    leases.start();
    holders.push({ leases, redis });
    return leases;
  };

  it('grants up to the cap per user across replicas, then refuses with the time until the oldest lease could lapse', async () => {
    const [a, b] = [holder(2, 10_000), holder(2, 10_000)];
    granted(await a.acquire('alice'));
    granted(await b.acquire('alice'));
    const refused = await a.acquire('alice');
    expect(refused).toEqual({ granted: false, held: 2, retryAfterMs: expect.any(Number) });
    if (refused.granted) return;
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(10_000);
    // Another user has a cap of their own.
    granted(await b.acquire('bob'));
    expect(await inspector.zcard(keys.streamLeases('alice'))).toBe(2);
  });

  it('frees a slot when its lease is released, and only once however often release is called', async () => {
    const leases = holder(2);
    const first = granted(await leases.acquire('carol'));
    granted(await leases.acquire('carol'));
    await first.release();
    await first.release();
    granted(await leases.acquire('carol'));
    // Had the second release removed anything, this one would be granted.
    expect((await leases.acquire('carol')).granted).toBe(false);
    expect(leases.size).toBe(2);
  });

  it('keeps the leases of live streams past their TTL by renewing them', async () => {
    const leases = holder(1, 1_000);
    granted(await leases.acquire('dave'));
    const [, firstExpiry] = await inspector.zrange(keys.streamLeases('dave'), 0, 0, 'WITHSCORES');
    await waitUntil('the first lease expiry to pass', async () => (await redisNow(inspector)) > Number(firstExpiry) + 200);
    expect((await holder(1, 1_000).acquire('dave')).granted).toBe(false);
    const [, renewedExpiry] = await inspector.zrange(keys.streamLeases('dave'), 0, 0, 'WITHSCORES');
    expect(Number(renewedExpiry)).toBeGreaterThan(Number(firstExpiry));
  });

  it("lets a crashed replica's leases lapse after the TTL, so its users' slots come back", async () => {
    const crashed = holder(1, 1_000);
    granted(await crashed.acquire('erin'));
    // A crash: the connection goes, nothing is released and nothing renewed any more.
    holders[0]!.crashed = true;
    holders[0]!.redis.disconnect();
    const survivor = holder(1, 1_000);
    expect((await survivor.acquire('erin')).granted).toBe(false);
    const started = Date.now();
    await waitUntil('the lapsed slot to be granted', async () => (await survivor.acquire('erin')).granted, 5_000, 50);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('adds back the lease of a live stream that lapsed while Redis could not be reached', async () => {
    const leases = holder(3, 1_000);
    granted(await leases.acquire('frank'));
    granted(await leases.acquire('frank'));
    // As if every lease had lapsed during an outage longer than the TTL.
    await inspector.del(keys.streamLeases('frank'));
    await waitUntil('both leases to be renewed', async () => (await inspector.zcard(keys.streamLeases('frank'))) === 2);
    expect(await inspector.pttl(keys.streamLeases('frank'))).toBeGreaterThan(0);
  });

  it('gives back every lease it holds when stopped, and refuses nothing to the others afterwards', async () => {
    const [a, b] = [holder(2), holder(2)];
    granted(await a.acquire('gina'));
    granted(await a.acquire('gina'));
    await a.stop();
    expect(await inspector.zcard(keys.streamLeases('gina'))).toBe(0);
    granted(await b.acquire('gina'));
    granted(await b.acquire('gina'));
  });

  it('keeps every key under the queue prefix, so the hash tag puts them in the queue slot', async () => {
    granted(await holder(1).acquire('hana'));
    expect(keys.streamLeases('hana').startsWith(`${prefix}:jobs:`)).toBe(true);
    expect(await inspector.exists(keys.streamLeases('hana'))).toBe(1);
  });
});
