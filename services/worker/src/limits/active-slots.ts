import { registerScript } from '@jobstream/runtime';
import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';

/*
 * BullMQ has no per-group concurrency, so the per-user cap on running jobs is kept beside it: each
 * running job holds a slot, a member of its owner's sorted set scored by the slot's expiry. The
 * worker running the job renews the slot (one timer for all of this process's slots) and gives it
 * back when the attempt ends; a crashed worker's slots lapse after the lease, as its BullMQ locks
 * do. A job refused a slot is recorded as held, and whoever frees a slot of that user wakes the
 * oldest held job at once, so a held job need not poll for its turn. Time is Redis's (`TIME`).
 */

/**
 * KEYS: slots, held. ARGV: job id, cap, lease ms, held-set ttl ms. Drops lapsed slots; grants one
 * when the job holds one already or fewer than the cap are held. Returns {1, 0} when granted,
 * {0, ms since the job was first held} when not.
 */
const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local jobId, lease = ARGV[1], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], jobId) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, jobId)
  if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
  redis.call('ZREM', KEYS[2], jobId)
  return {1, 0}
end
redis.call('ZADD', KEYS[2], 'NX', now, jobId)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {0, now - tonumber(redis.call('ZSCORE', KEYS[2], jobId))}`;

/** KEYS: slots. ARGV: lease ms, job ids. Pushes the expiry of these slots; one that lapsed meanwhile is taken again (its job still runs). */
const RENEW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + lease, ARGV[i]) end
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return #ARGV - 1`;

/** KEYS: slots, held. ARGV: job id. Gives the slot back and takes the oldest held job off the held set: the one to wake. */
const RELEASE_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
local oldest = redis.call('ZPOPMIN', KEYS[2])
return oldest[1] or false`;

type SlotClient = RedisClient & {
  jobstreamAcquireJobSlot(slots: string, held: string, jobId: string, max: string, leaseMs: string, heldTtlMs: string): Promise<[number, number]>;
  jobstreamRenewJobSlots(slots: string, leaseMs: string, ...jobIds: string[]): Promise<number>;
  jobstreamReleaseJobSlot(slots: string, held: string, jobId: string): Promise<string | null>;
};

export interface ActiveSlotsOptions {
  /** The worker's command connection. */
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'activeJobSlots' | 'heldJobs'>;
  /** Jobs one user may run at once across every worker; at least 1. */
  maxPerUser: number;
  /** A slot lapses this long after its last renewal (WORKER_LOCK_DURATION_MS); renewed every third of it. */
  leaseMs: number;
  logger: Logger;
}

export type SlotOutcome =
  | { granted: true; /** Gives the slot back; resolves to the id of the owner's held job to wake, if any. */ release: () => Promise<string | undefined> }
  | { granted: false; /** How long the job has been held back, without a break. */ heldForMs: number };

const defineAcquireJobSlot = registerScript('jobstreamAcquireJobSlot', { numberOfKeys: 2, lua: ACQUIRE_SCRIPT });
const defineRenewJobSlots = registerScript('jobstreamRenewJobSlots', { numberOfKeys: 1, lua: RENEW_SCRIPT });
const defineReleaseJobSlot = registerScript('jobstreamReleaseJobSlot', { numberOfKeys: 2, lua: RELEASE_SCRIPT });

/** The per-user slots of running jobs, shared by every worker process through Redis. */
export class ActiveSlots {
  /** owner → job ids of the slots this process holds for them. */
  private readonly held = new Map<string, Set<string>>();
  private readonly client: SlotClient;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(private readonly options: ActiveSlotsOptions) {
    if (options.maxPerUser < 1) throw new Error(`ActiveSlots: maxPerUser must be at least 1 (got ${options.maxPerUser})`);
    const redis = options.redis;
    defineAcquireJobSlot(redis);
    defineRenewJobSlots(redis);
    defineReleaseJobSlot(redis);
    this.client = redis as SlotClient;
    this.log = options.logger.child({ component: 'active-slots' });
  }

  /** Starts renewing this process's slots. */
  start(): void {
    this.timer ??= setInterval(() => void this.renew(), Math.max(100, Math.floor(this.options.leaseMs / 3))).unref();
  }

  /** Stops renewing. Slots still held lapse by themselves (their jobs are left to stalled-job recovery). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes a slot of `owner` for `jobId`, unless the owner runs as many jobs as the cap allows. Redis errors are thrown. */
  async acquire(owner: string, jobId: string): Promise<SlotOutcome> {
    const [granted, heldForMs] = await this.client.jobstreamAcquireJobSlot(
      this.options.keys.activeJobSlots(owner),
      this.options.keys.heldJobs(owner),
      jobId,
      String(this.options.maxPerUser),
      String(this.options.leaseMs),
      // A held set nobody touches for this long only lists jobs that are gone.
      String(Math.max(60_000, this.options.leaseMs * 3)),
    );
    if (granted !== 1) return { granted: false, heldForMs: Math.max(0, heldForMs) };
    let jobs = this.held.get(owner);
    if (!jobs) {
      jobs = new Set();
      this.held.set(owner, jobs);
    }
    jobs.add(jobId);
    return { granted: true, release: () => this.release(owner, jobId) };
  }

  private async release(owner: string, jobId: string): Promise<string | undefined> {
    const jobs = this.held.get(owner);
    // Forgotten first, so it is never renewed again: if the script below fails, the slot lapses by itself.
    if (!jobs?.delete(jobId)) return undefined;
    if (jobs.size === 0) this.held.delete(owner);
    const woken = await this.client.jobstreamReleaseJobSlot(this.options.keys.activeJobSlots(owner), this.options.keys.heldJobs(owner), jobId);
    return woken ?? undefined;
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      // Read when sent: a slot given back meanwhile must not be renewed (that would bring it back for a lease).
      const results = await Promise.allSettled(
        [...this.held.entries()].map(([owner, jobs]) =>
          this.client.jobstreamRenewJobSlots(this.options.keys.activeJobSlots(owner), String(this.options.leaseMs), ...jobs),
        ),
      );
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length > 0) {
        this.log.warn({ failed: failed.length, err: (failed[0] as PromiseRejectedResult).reason }, 'could not renew job slots; retrying on the next round');
      }
    } finally {
      this.renewing = false;
    }
  }
}
