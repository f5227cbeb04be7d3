import { registerScript, type Logger, type RedisClient } from '@jobstream/runtime';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type LeaseClient = RedisClient & {
  jobstreamRenewLease(key: string, token: string, ttlMs: number): Promise<number>;
  jobstreamReleaseLease(key: string, token: string): Promise<number>;
};

const defineRenewLease = registerScript('jobstreamRenewLease', { numberOfKeys: 1, lua: RENEW_SCRIPT });
const defineReleaseLease = registerScript('jobstreamReleaseLease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });

/** A lease in Redis that at most one holder has at a time; it lapses unless renewed. */
export class RelayLease {
  private readonly client: LeaseClient;

  constructor(
    redis: RedisClient,
    private readonly key: string,
    readonly token: string,
    private readonly ttlMs: number,
  ) {
    defineRenewLease(redis);
    defineReleaseLease(redis);
    this.client = redis as LeaseClient;
  }

  /** Takes the lease if nobody holds it. */
  async acquire(): Promise<boolean> {
    return (await this.client.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  /** Extends the lease; false when it lapsed and is ours no more. */
  async renew(): Promise<boolean> {
    return (await this.client.jobstreamRenewLease(this.key, this.token, this.ttlMs)) === 1;
  }

  /** Gives the lease up so that another process takes over at once. */
  async release(): Promise<void> {
    await this.client.jobstreamReleaseLease(this.key, this.token);
  }
}

/**
 * Leadership of one role among the worker processes (the relay, the webhook dispatcher): the
 * lease, whether this process holds it, and a timer that renews it every third of its time while
 * held. A holder that finds its lease lapsed (a pause longer than the lease) stops acting at once.
 */
export class Leadership {
  readonly lease: RelayLease;
  private held = false;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    redis: RedisClient,
    key: string,
    private readonly ttlMs: number,
    /** Where lapses and renewal errors are told; `role` names the role in those lines. */
    private readonly log: Logger,
    private readonly role: string,
  ) {
    this.lease = new RelayLease(redis, key, randomUUID(), ttlMs);
  }

  get isLeader(): boolean {
    return this.held;
  }

  start(): void {
    this.renewTimer ??= setInterval(() => void this.renew(), Math.max(250, Math.floor(this.ttlMs / 3)));
    this.renewTimer.unref();
  }

  /** Takes the lease when nobody holds it; waits a fifth of the lease time before answering no. */
  async acquire(): Promise<boolean> {
    if (this.held) return true;
    this.held = await this.lease.acquire();
    if (!this.held) await sleep(Math.max(200, Math.floor(this.ttlMs / 5)));
    return this.held;
  }

  /** The lease turned out not to be ours any more (a write guarded by it was refused). */
  lost(): void {
    this.held = false;
  }

  /** Gives the lease up, so that another process takes over at once. */
  async resign(): Promise<void> {
    if (this.held) await this.lease.release().catch(() => undefined);
    this.held = false;
  }

  /** Stops renewing and gives the lease up. */
  async stop(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    await this.resign();
  }

  private async renew(): Promise<void> {
    if (!this.held) return;
    try {
      if (!(await this.lease.renew())) {
        this.held = false;
        this.log.warn(`${this.role} lease lapsed; another process may take over`);
      }
    } catch (err) {
      this.log.warn({ err }, `could not renew the ${this.role} lease`);
    }
  }
}

/**
 * The shortest time between two rounds of a dispatcher that follows the live feed (webhooks,
 * push): under load a round then takes a tenth of a second of events at once instead of a few
 * (each round costs a read, a lookup and a cursor write), and a delivery leaves at most this much
 * later.
 */
export const DISPATCH_ROUND_MS = 100;

/** Waits out what is left of a round of `roundMs` that began at `startedAt`, unless it is stopping. */
async function paceRound(startedAt: number, roundMs: number, stopping: () => boolean): Promise<void> {
  const rest = roundMs - (Date.now() - startedAt);
  if (rest > 0 && !stopping()) await sleep(rest);
}

/** What a dispatcher following the live feed does in `FeedDispatch`. */
export interface DispatchRounds {
  /** Called each time this process takes the lease: the cursor to go on from (kept in Redis). */
  resume(): Promise<string>;
  /** One round from `cursor`; returns the cursor after it. */
  round(cursor: string): Promise<string>;
}

/**
 * The loop of a follower of a stream under a lease (the relay; the webhook and push dispatchers of
 * the live feed): while this process holds the lease it runs rounds, at most one per `roundMs`
 * (DISPATCH_ROUND_MS by default; 0: unpaced); a round that fails gives the lease up, so that the
 * next holder (this process again, or another) resumes from the cursor kept in Redis.
 */
export class FeedDispatch {
  /** The lease the rounds' writes are guarded by (its token), and `lost()` when one was refused. */
  readonly leadership: Leadership;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    redis: RedisClient,
    lockKey: string,
    lockTtlMs: number,
    private readonly log: Logger,
    /** Names the dispatcher in log lines (`push dispatcher`). */
    private readonly role: string,
    private readonly rounds: DispatchRounds,
    private readonly roundMs: number = DISPATCH_ROUND_MS,
  ) {
    this.leadership = new Leadership(redis, lockKey, lockTtlMs, log, role);
  }

  start(): void {
    this.running ??= this.loop();
    this.leadership.start();
  }

  /** Whether this process holds the lease now. */
  get isLeader(): boolean {
    return this.leadership.isLeader;
  }

  /** Stops after the current round and hands the lease over. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    await this.leadership.stop();
  }

  private async loop(): Promise<void> {
    let cursor = '0-0';
    while (!this.stopping) {
      try {
        if (!this.leadership.isLeader) {
          if (!(await this.leadership.acquire())) continue;
          cursor = await this.rounds.resume();
        }
        const startedAt = Date.now();
        cursor = await this.rounds.round(cursor);
        await paceRound(startedAt, this.roundMs, () => this.stopping);
      } catch (err) {
        if (this.stopping) break;
        this.log.warn({ err }, `${this.role} round failed; retrying`);
        await this.leadership.resign();
        await sleep(500);
      }
    }
  }
}
