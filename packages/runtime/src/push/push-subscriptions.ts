import type { PushSubscriptionKind, PushSubscriptionView } from '@jobstream/contracts';
import { createHash } from 'node:crypto';
import type { JobstreamKeys } from '../keys.js';
import { registerScript } from '../lua-scripts.js';
import type { RedisClient } from '../redis.js';

/** A subscription as stored: where and how to deliver to one device. */
export type StoredPushSubscription =
  | { id: string; kind: 'web'; endpoint: string; keys: { p256dh: string; auth: string }; expirationTime?: number | null; createdAt: string }
  | { id: string; kind: 'expo' | 'fcm'; token: string; createdAt: string };

/** What a new subscription is made of: a web endpoint with its keys, or an Expo or FCM registration token. */
export type PushTarget =
  | { kind: 'web'; endpoint: string; keys: { p256dh: string; auth: string }; expirationTime?: number | null }
  | { kind: 'expo' | 'fcm'; token: string };

export type AddOutcome = { added: boolean; subscription: StoredPushSubscription } | { limitReached: true };

/*
 * A device is registered to one user at a time: registering an endpoint that another user holds
 * moves it (the browser's profile now belongs to whoever signed in last), so a shared device never
 * gets the previous user's pushes. KEYS: the user's subscriptions, the users with any, the endpoint
 * owners, the previous owner's subscriptions. ARGV: id, JSON, endpoint hash, user, cap, previous
 * owner seen ('' for none), the id under the previous owner. {-1}: the owner changed meanwhile (read
 * it again); {-2}: at the cap; {0}: already registered (keys refreshed); {1}: added.
 */
const ADD_SCRIPT = `
local owner = redis.call('HGET', KEYS[3], ARGV[3])
if (owner or '') ~= ARGV[6] then return -1 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
  return 0
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return -2 end
if owner and owner ~= ARGV[4] then
  redis.call('HDEL', KEYS[4], ARGV[7])
  if redis.call('HLEN', KEYS[4]) == 0 then redis.call('SREM', KEYS[2], owner) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[4])
return 1`;

/** KEYS: the user's subscriptions, the users with any, the endpoint owners. ARGV: id, user, endpoint hash. */
const REMOVE_SCRIPT = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[3], ARGV[3]) == ARGV[2] then redis.call('HDEL', KEYS[3], ARGV[3]) end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return 1`;

type PushClient = RedisClient & {
  jobstreamAddPushSubscription(...args: string[]): Promise<number>;
  jobstreamRemovePushSubscription(...args: string[]): Promise<number>;
};

const defineAdd = registerScript('jobstreamAddPushSubscription', { numberOfKeys: 4, lua: ADD_SCRIPT });
const defineRemove = registerScript('jobstreamRemovePushSubscription', { numberOfKeys: 3, lua: REMOVE_SCRIPT });

const addressOf = (target: PushTarget | StoredPushSubscription): string => (target.kind === 'web' ? target.endpoint : target.token);
const hashOf = (text: string): Buffer => createHash('sha256').update(text).digest();

/** A subscription's id: the same for the same user and device, and tells nothing about either. */
export function pushSubscriptionId(userId: string, target: PushTarget): string {
  return hashOf(`${userId}\n${addressOf(target)}`).toString('base64url').slice(0, 22);
}

/** The service a token is delivered through, as its owner is shown it. */
const TOKEN_SERVICE_HOSTS = { expo: 'exp.host', fcm: 'fcm.googleapis.com' } as const;

/** The host a subscription delivers through, as its owner is shown it. */
export function pushSubscriptionView(subscription: StoredPushSubscription): PushSubscriptionView {
  const host = subscription.kind === 'web' ? new URL(subscription.endpoint).host : TOKEN_SERVICE_HOSTS[subscription.kind];
  return { id: subscription.id, kind: subscription.kind satisfies PushSubscriptionKind, host, createdAt: subscription.createdAt };
}

function decode(json: string | null | undefined): StoredPushSubscription | undefined {
  if (!json) return undefined;
  return JSON.parse(json) as StoredPushSubscription;
}

/** Each user's push subscriptions in Redis, and the set of users who have any. */
export class PushSubscriptions {
  private readonly client: PushClient;

  constructor(
    redis: RedisClient,
    private readonly keys: JobstreamKeys,
    /** PUSH_MAX_SUBSCRIPTIONS_PER_USER. */
    readonly maxPerUser: number,
  ) {
    defineAdd(redis);
    defineRemove(redis);
    this.client = redis as PushClient;
  }

  /** Registers a device for a user (again: same id, its keys refreshed), unless the user is at the cap. */
  async add(userId: string, target: PushTarget, now = new Date()): Promise<AddOutcome> {
    const id = pushSubscriptionId(userId, target);
    const subscription = { id, ...target, createdAt: now.toISOString() } as StoredPushSubscription;
    const addressHash = hashOf(addressOf(target)).toString('hex');
    for (let attempt = 0; attempt < 5; attempt++) {
      const owner = (await this.client.hget(this.keys.pushEndpoints, addressHash)) ?? '';
      const ownerKey = this.keys.pushSubscriptions(owner === '' ? userId : owner);
      const previousId = owner === '' ? '' : pushSubscriptionId(owner, target);
      const existing = owner === userId ? decode(await this.client.hget(this.keys.pushSubscriptions(userId), id)) : undefined;
      const stored = existing ? { ...subscription, createdAt: existing.createdAt } : subscription;
      const outcome = await this.client.jobstreamAddPushSubscription(
        this.keys.pushSubscriptions(userId),
        this.keys.pushUsers,
        this.keys.pushEndpoints,
        ownerKey,
        id,
        JSON.stringify(stored),
        addressHash,
        userId,
        String(this.maxPerUser),
        owner,
        previousId,
      );
      if (outcome === -2) return { limitReached: true };
      if (outcome !== -1) return { added: outcome === 1, subscription: stored };
    }
    throw new Error('push subscription owner kept changing');
  }

  /** The user's subscriptions, oldest first. */
  async list(userId: string): Promise<StoredPushSubscription[]> {
    const all = await this.client.hvals(this.keys.pushSubscriptions(userId));
    return all
      .map((json) => decode(json))
      .filter((s): s is StoredPushSubscription => s !== undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** One of the user's subscriptions; another user's id finds nothing. */
  async get(userId: string, id: string): Promise<StoredPushSubscription | undefined> {
    return decode(await this.client.hget(this.keys.pushSubscriptions(userId), id));
  }

  /** Removes one of the user's subscriptions; false when the user has none of that id. */
  async remove(userId: string, id: string): Promise<boolean> {
    const subscription = await this.get(userId, id);
    if (!subscription) return false;
    const removed = await this.client.jobstreamRemovePushSubscription(
      this.keys.pushSubscriptions(userId),
      this.keys.pushUsers,
      this.keys.pushEndpoints,
      id,
      userId,
      hashOf(addressOf(subscription)).toString('hex'),
    );
    return removed === 1;
  }

  /** Which of these users have a subscription: one round trip for a whole batch of events. */
  async subscribed(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const flags = (await this.client.smismember(this.keys.pushUsers, ...userIds)) as number[];
    return new Set(userIds.filter((_, i) => flags[i] === 1));
  }

  /** Whether anyone has a subscription (a deployment where nobody does reads nothing per event). */
  async anySubscribed(): Promise<boolean> {
    return (await this.client.scard(this.keys.pushUsers)) > 0;
  }
}
