import type { WebhookEndpoint, WebhookEventType } from '@jobstream/contracts';
import { randomBytes } from 'node:crypto';
import type { JobstreamKeys } from '../keys.js';
import { registerScript } from '../lua-scripts.js';
import type { RedisClient } from '../redis.js';
import { newWebhookSecret } from './signature.js';

/** How long a rotated-out secret still signs deliveries, next to the new one. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1_000;

/** An endpoint as stored: what the api answers, plus the owner, the secrets and times in ms. */
export interface StoredWebhookEndpoint {
  id: string;
  owner: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  secret: string;
  /** The secret before the last rotation, still used next to `secret` until `previousSecretUntil`. */
  previousSecret?: string;
  previousSecretUntil?: number;
  createdAt: number;
}

/** A stored endpoint with its state: why it was turned off, if it was. */
export interface WebhookEndpointState extends StoredWebhookEndpoint {
  disabledReason: string | null;
}

/*
 * One hash per user: field `<id>` the endpoint's JSON, `<id>.failures` its dead deliveries in a row,
 * `<id>.disabled` why it was turned off. State kept in fields of its own is changed by one command,
 * never by rewriting the JSON another writer may be rewriting too.
 */
const FAILURES = '.failures';
const DISABLED = '.disabled';

/** KEYS: the user's hash. ARGV: id, json, max endpoints. 1 when added, 0 at the cap. */
const CREATE_SCRIPT = `
local count = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if not string.find(field, '.', 1, true) then count = count + 1 end
end
if count >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** KEYS: the user's hash. ARGV: id, json. Writes only an endpoint that still exists. */
const REPLACE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/**
 * KEYS: the user's hash. ARGV: id, failures that disable it, reason. Counts one more dead delivery;
 * returns 1 when this one turned the endpoint off, else 0.
 */
const FAILURE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local failures = redis.call('HINCRBY', KEYS[1], ARGV[1] .. '${FAILURES}', 1)
if failures >= tonumber(ARGV[2]) then return redis.call('HSETNX', KEYS[1], ARGV[1] .. '${DISABLED}', ARGV[3]) end
return 0`;

type ScriptClient = RedisClient & {
  jobstreamWebhookCreate(key: string, id: string, json: string, max: number): Promise<number>;
  jobstreamWebhookReplace(key: string, id: string, json: string): Promise<number>;
  jobstreamWebhookFailure(key: string, id: string, threshold: number, reason: string): Promise<number>;
};

const defineCreate = registerScript('jobstreamWebhookCreate', { numberOfKeys: 1, lua: CREATE_SCRIPT });
const defineReplace = registerScript('jobstreamWebhookReplace', { numberOfKeys: 1, lua: REPLACE_SCRIPT });
const defineFailure = registerScript('jobstreamWebhookFailure', { numberOfKeys: 1, lua: FAILURE_SCRIPT });

/** What the api answers for an endpoint; the secret only when asked (create, rotate). */
export function publicEndpoint(endpoint: WebhookEndpointState, withSecret = false): WebhookEndpoint {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    enabled: endpoint.disabledReason === null,
    disabledReason: endpoint.disabledReason,
    createdAt: new Date(endpoint.createdAt).toISOString(),
    ...(withSecret ? { secret: endpoint.secret } : {}),
  };
}

/** The secrets a delivery is signed with now: the current one, and the previous one during its grace period. */
export function signingSecrets(endpoint: StoredWebhookEndpoint, now: number = Date.now()): string[] {
  const previous = endpoint.previousSecret !== undefined && (endpoint.previousSecretUntil ?? 0) > now ? [endpoint.previousSecret] : [];
  return [endpoint.secret, ...previous];
}

function parseEndpoint(json: string | undefined, disabled: string | undefined): WebhookEndpointState | undefined {
  if (json === undefined) return undefined;
  return { ...(JSON.parse(json) as StoredWebhookEndpoint), disabledReason: disabled ?? null };
}

/** Each user's webhook endpoints in Redis, read by the api (their routes) and the worker (deliveries). */
export class WebhookEndpointStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<JobstreamKeys, 'webhookEndpoints' | 'webhookDeliveries'>,
  ) {
    defineCreate(redis);
    defineReplace(redis);
    defineFailure(redis);
  }

  /** Adds an endpoint with a new id and secret; undefined when the user already has `max`. */
  async create(owner: string, input: { url: string; events: WebhookEventType[]; description?: string | undefined }, max: number, now = Date.now()): Promise<WebhookEndpointState | undefined> {
    const endpoint: StoredWebhookEndpoint = {
      id: `ep_${randomBytes(16).toString('hex')}`,
      owner,
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description || null,
      secret: newWebhookSecret(),
      createdAt: now,
    };
    const added = await (this.redis as ScriptClient).jobstreamWebhookCreate(this.keys.webhookEndpoints(owner), endpoint.id, JSON.stringify(endpoint), max);
    return added === 1 ? { ...endpoint, disabledReason: null } : undefined;
  }

  /** The user's endpoints, oldest first. */
  async list(owner: string): Promise<WebhookEndpointState[]> {
    const fields = await this.redis.hgetall(this.keys.webhookEndpoints(owner));
    return Object.keys(fields)
      .filter((field) => !field.includes('.'))
      .map((id) => parseEndpoint(fields[id], fields[`${id}${DISABLED}`]))
      .filter((e): e is WebhookEndpointState => e !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** One of the user's endpoints; undefined when it is not theirs or does not exist. */
  async get(owner: string, id: string): Promise<WebhookEndpointState | undefined> {
    const [json, disabled] = await this.redis.hmget(this.keys.webhookEndpoints(owner), id, `${id}${DISABLED}`);
    return parseEndpoint(json ?? undefined, disabled ?? undefined);
  }

  /** Removes the endpoint and its delivery log; false when the user has no such endpoint. */
  async delete(owner: string, id: string): Promise<boolean> {
    const removed = await this.redis.hdel(this.keys.webhookEndpoints(owner), id, `${id}${FAILURES}`, `${id}${DISABLED}`);
    if (removed === 0) return false;
    const log = this.keys.webhookDeliveries(id);
    await this.redis.del(log.order, log.data);
    return true;
  }

  /** Gives the endpoint a new secret; the old one keeps signing for PREVIOUS_SECRET_GRACE_MS. Undefined when there is no such endpoint. */
  async rotateSecret(owner: string, id: string, now = Date.now()): Promise<WebhookEndpointState | undefined> {
    const current = await this.get(owner, id);
    if (!current) return undefined;
    const { disabledReason, ...stored } = current;
    const next: StoredWebhookEndpoint = { ...stored, secret: newWebhookSecret(), previousSecret: stored.secret, previousSecretUntil: now + PREVIOUS_SECRET_GRACE_MS };
    const replaced = await (this.redis as ScriptClient).jobstreamWebhookReplace(this.keys.webhookEndpoints(owner), id, JSON.stringify(next));
    return replaced === 1 ? { ...next, disabledReason } : undefined;
  }

  /** A delivery to the endpoint succeeded: its run of failures is over. */
  async recordSuccess(owner: string, id: string): Promise<void> {
    await this.redis.hdel(this.keys.webhookEndpoints(owner), `${id}${FAILURES}`);
  }

  /** A delivery to the endpoint was given up; true when this turned the endpoint off (`threshold` in a row). */
  async recordDeadDelivery(owner: string, id: string, threshold: number, reason: string): Promise<boolean> {
    return (await (this.redis as ScriptClient).jobstreamWebhookFailure(this.keys.webhookEndpoints(owner), id, threshold, reason)) === 1;
  }
}
