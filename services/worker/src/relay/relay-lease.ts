import { registerScript } from '@jobstream/runtime';
import type { RedisClient } from '@jobstream/runtime';

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
