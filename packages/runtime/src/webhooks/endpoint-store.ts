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
  /** Absent on an endpoint before job callbacks existed: `endpoint`. */
  kind?: 'endpoint' | 'callbacks';
  /** Empty for the callbacks endpoint: each delivery has its job's own URL. */
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
/** The field naming the user's callbacks endpoint, if it has one. */
const CALLBACKS = '.callbacks';

/** KEYS: the user's hash. ARGV: id, json, max endpoints. 1 when added, 0 at the cap. */
const CREATE_SCRIPT = `
local count = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if not string.find(field, '.', 1, true) then count = count + 1 end
end
if count >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/**
 * KEYS: the user's hash. ARGV: id, json, max endpoints. Adds the callbacks endpoint unless the user
 * has one (its id is answered) or is at the cap (''): the new id otherwise.
 */
const CREATE_CALLBACKS_SCRIPT = `
local existing = redis.call('HGET', KEYS[1], '${CALLBACKS}')
if existing then return existing end
local count = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if not string.find(field, '.', 1, true) then count = count + 1 end
end
if count >= tonumber(ARGV[3]) then return '' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], '${CALLBACKS}', ARGV[1])
return ARGV[1]`;

/** KEYS: the user's hash. ARGV: id. Removes the endpoint and its state (and the callbacks mark if it names it); 1 if it existed. */
const DELETE_SCRIPT = `
local removed = redis.call('HDEL', KEYS[1], ARGV[1], ARGV[1] .. '${FAILURES}', ARGV[1] .. '${DISABLED}')
if removed > 0 and redis.call('HGET', KEYS[1], '${CALLBACKS}') == ARGV[1] then redis.call('HDEL', KEYS[1], '${CALLBACKS}') end
return removed > 0 and 1 or 0`;

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
  jobstreamWebhookCreateCallbacks(key: string, id: string, json: string, max: number): Promise<string>;
  jobstreamWebhookDelete(key: string, id: string): Promise<number>;
  jobstreamWebhookFailure(key: string, id: string, threshold: number, reason: string): Promise<number>;
};

const defineCreate = registerScript('jobstreamWebhookCreate', { numberOfKeys: 1, lua: CREATE_SCRIPT });
const defineCreateCallbacks = registerScript('jobstreamWebhookCreateCallbacks', { numberOfKeys: 1, lua: CREATE_CALLBACKS_SCRIPT });
const defineDelete = registerScript('jobstreamWebhookDelete', { numberOfKeys: 1, lua: DELETE_SCRIPT });
const defineReplace = registerScript('jobstreamWebhookReplace', { numberOfKeys: 1, lua: REPLACE_SCRIPT });
const defineFailure = registerScript('jobstreamWebhookFailure', { numberOfKeys: 1, lua: FAILURE_SCRIPT });

/** What the api answers for an endpoint; the secret only when asked (create, rotate). */
export function publicEndpoint(endpoint: WebhookEndpointState, withSecret = false): WebhookEndpoint {
  return {
    id: endpoint.id,
    kind: endpoint.kind ?? 'endpoint',
    url: endpoint.kind === 'callbacks' ? null : endpoint.url,
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
    defineCreateCallbacks(redis);
    defineDelete(redis);
    defineReplace(redis);
    defineFailure(redis);
  }

  /**
   * The user's job-callbacks endpoint, made now if it has none (`created`; only then with a secret
   * the caller has not seen); undefined when the user already has `max` endpoints.
   */
  async ensureCallbacks(owner: string, max: number, now = Date.now()): Promise<{ endpoint: WebhookEndpointState; created: boolean } | undefined> {
    const endpoint: StoredWebhookEndpoint = {
      id: `ep_${randomBytes(16).toString('hex')}`,
      owner,
      kind: 'callbacks',
      url: '',
      events: ['job.completed', 'job.failed'],
      description: 'job callbacks',
      secret: newWebhookSecret(),
      createdAt: now,
    };
    const id = await (this.redis as ScriptClient).jobstreamWebhookCreateCallbacks(this.keys.webhookEndpoints(owner), endpoint.id, JSON.stringify(endpoint), max);
    if (id === '') return undefined;
    if (id === endpoint.id) return { endpoint: { ...endpoint, disabledReason: null }, created: true };
    const existing = await this.get(owner, id);
    return existing ? { endpoint: existing, created: false } : undefined;
  }

  /** The user's job-callbacks endpoint, if it has one. */
  async callbacks(owner: string): Promise<WebhookEndpointState | undefined> {
    const id = await this.redis.hget(this.keys.webhookEndpoints(owner), CALLBACKS);
    return id === null ? undefined : this.get(owner, id);
  }

  /** Adds an endpoint with a new id and secret; undefined when the user already has `max`. */
  async create(owner: string, input: { url: string; events: WebhookEventType[]; description?: string | undefined }, max: number, now = Date.now()): Promise<WebhookEndpointState | undefined> {
    const endpoint: StoredWebhookEndpoint = {
      id: `ep_${randomBytes(16).toString('hex')}`,
      owner,
      kind: 'endpoint',
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
    const removed = await (this.redis as ScriptClient).jobstreamWebhookDelete(this.keys.webhookEndpoints(owner), id);
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
