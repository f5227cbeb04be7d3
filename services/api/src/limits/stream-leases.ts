import { registerScript } from '@jobstream/runtime';
import type { Logger, RedisClient } from '@jobstream/runtime';
import { randomBytes } from 'node:crypto';

/*
 * Why not rate-limiter-flexible here (it does the enqueue limit): it counts points in one key per
 * user whose TTL is set when the window starts and is never tied to who consumed them. Used as a
 * concurrency counter (consume on open, reward on close) that breaks both ways:
 * - when the key expires, the count drops to 0 while the user's streams are still open (the cap is
 *   exceeded), and the rewards that follow drive it negative;
 * - points consumed by a replica that crashed cannot be told apart from live ones, so they are only
 *   returned when the whole key expires, and keeping the key alive for the live streams keeps the
 *   dead ones alive too.
 * A stream's slot therefore is a lease of its own: a member of the user's sorted set whose score
 * is its expiry. Each replica renews its own members on one timer, so a crashed replica's members
 * lapse after the lease TTL while every live stream keeps its slot. Time is Redis's (`TIME`), so
 * replicas with skewed clocks agree on what has expired.
 */

/** Drops lapsed leases; grants one if fewer than the cap are held. Returns {granted, held, ms until the oldest lapses}. */
const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, held, tonumber(oldest[2]) - now}
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, held + 1, 0}`;

/**
 * Pushes the expiry of this replica's leases of one user. A lease that lapsed meanwhile (Redis was
 * away longer than the TTL) is added back: its stream is still open and still uses a slot.
 */
const RENEW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return #ARGV - 1`;

type LeaseClient = RedisClient & {
  jobstreamAcquireStreamLease(key: string, member: string, max: string, ttlMs: string): Promise<[number, number, number]>;
  jobstreamRenewStreamLeases(key: string, ttlMs: string, ...members: string[]): Promise<number>;
};

/** How many users' leases one renewal round sends at once (bounds what one round queues on the connection). */
const RENEW_BATCH = 500;

export interface StreamLeasesOptions {
  /** The api's command connection. */
  redis: RedisClient;
  /** The key of one user's lease set (`keys.streamLeases`): under the queue's hash tag. */
  keyOf: (userId: string) => string;
  /** Leases one user may hold at once, across every replica; at least 1. */
  maxPerUser: number;
  /** A lease lapses this long after its last renewal; renewed every third of it. */
  leaseTtlMs: number;
  logger: Logger;
}

export type LeaseOutcome =
  | { granted: true; /** Gives the slot back; later calls do nothing. */ release: () => Promise<void> }
  | { granted: false; /** Leases the user holds. */ held: number; /** Until the user's oldest lease would lapse unrenewed. */ retryAfterMs: number };

const defineAcquireStreamLease = registerScript('jobstreamAcquireStreamLease', { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });
const defineRenewStreamLeases = registerScript('jobstreamRenewStreamLeases', { numberOfKeys: 1, lua: RENEW_SCRIPT });

/**
 * Per-user counts of open streams shared by the replicas through Redis, one lease per stream. This
 * process renews all of its leases on a single timer (however many streams it holds).
 */
export class StreamLeases {
  /** Tells this process's leases from other replicas' (and from a previous run of this one). */
  private readonly holder = randomBytes(9).toString('base64url');
  private sequence = 0;
  /** user id → members this process holds for the user. */
  private readonly held = new Map<string, Set<string>>();
  private readonly client: LeaseClient;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private stopped = false;

  constructor(private readonly options: StreamLeasesOptions) {
    if (options.maxPerUser < 1) throw new Error(`StreamLeases: maxPerUser must be at least 1 (got ${options.maxPerUser})`);
    const redis = options.redis;
    defineAcquireStreamLease(redis);
    defineRenewStreamLeases(redis);
    this.client = redis as LeaseClient;
    this.log = options.logger.child({ component: 'stream-leases' });
  }

  /** Starts renewing this process's leases. */
  start(): void {
    this.timer ??= setInterval(() => void this.renew(), Math.max(100, Math.floor(this.options.leaseTtlMs / 3))).unref();
  }

  /** Takes a lease for one stream of `userId`, unless the user holds the maximum already. Redis errors are thrown. */
  async acquire(userId: string): Promise<LeaseOutcome> {
    const member = `${this.holder}:${(this.sequence += 1)}`;
    const key = this.options.keyOf(userId);
    const [granted, held, oldestMs] = await this.client.jobstreamAcquireStreamLease(
      key,
      member,
      String(this.options.maxPerUser),
      String(this.options.leaseTtlMs),
    );
    if (granted !== 1) return { granted: false, held, retryAfterMs: Math.min(Math.max(oldestMs, 0), this.options.leaseTtlMs) };
    if (this.stopped) {
      // Granted while shutting down: nobody would renew or give it back, so it goes back at once.
      await this.client.zrem(key, member).catch(() => undefined);
      return { granted: true, release: async () => undefined };
    }
    let members = this.held.get(userId);
    if (!members) {
      members = new Set();
      this.held.set(userId, members);
    }
    members.add(member);
    return { granted: true, release: () => this.release(userId, member) };
  }

  /** Leases this process holds now (for tests and metrics). */
  get size(): number {
    let count = 0;
    for (const members of this.held.values()) count += members.size;
    return count;
  }

  /** Stops renewing and gives back every lease this process still holds (shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const users = [...this.held.entries()];
    this.held.clear();
    await Promise.allSettled(
      users.map(([userId, members]) =>
        this.client.zrem(this.options.keyOf(userId), ...members).catch((err: Error) => {
          this.log.debug({ err }, 'could not give stream leases back at shutdown; they lapse by themselves');
        }),
      ),
    );
  }

  private async release(userId: string, member: string): Promise<void> {
    const members = this.held.get(userId);
    // Forgotten first, so it is never renewed again: if the ZREM below fails, the lease lapses by itself.
    if (!members?.delete(member)) return;
    if (members.size === 0) this.held.delete(userId);
    try {
      await this.client.zrem(this.options.keyOf(userId), member);
    } catch (err) {
      this.log.debug({ err }, 'could not give a stream lease back; it lapses within the lease TTL');
    }
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      const users = [...this.held.keys()];
      let failed = 0;
      let lastError: unknown;
      for (let i = 0; i < users.length; i += RENEW_BATCH) {
        // Members are read as each batch is sent, not when the round began: a lease released while an
        // earlier batch was in flight must not be renewed (that would bring it back for a whole TTL).
        const batch = users.slice(i, i + RENEW_BATCH).flatMap((userId) => {
          const members = this.held.get(userId);
          return members ? [[userId, [...members]] as const] : [];
        });
        const results = await Promise.allSettled(
          batch.map(([userId, members]) =>
            this.client.jobstreamRenewStreamLeases(this.options.keyOf(userId), String(this.options.leaseTtlMs), ...members),
          ),
        );
        for (const result of results) {
          if (result.status === 'rejected') {
            failed += 1;
            lastError = result.reason;
          }
        }
      }
      if (failed > 0) this.log.warn({ failed, users: users.length, err: lastError }, 'could not renew stream leases; retrying on the next round');
    } finally {
      this.renewing = false;
    }
  }
}
