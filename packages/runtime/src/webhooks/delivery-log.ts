import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEventType } from '@jobstream/contracts';
import type { JobstreamKeys } from '../keys.js';
import { registerScript } from '../lua-scripts.js';
import type { RedisClient } from '../redis.js';

/** One delivery as the log stores it (times in ms, the body as it is signed). */
export interface DeliveryRecord {
  id: string;
  endpointId: string;
  owner: string;
  eventType: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  responseTimeMs: number | null;
  createdAt: number;
  updatedAt: number;
  /** Manual redeliveries so far; the n-th runs as BullMQ job `<id>-r<n>`. */
  redeliveries: number;
  body: string;
  /** Where it goes when not to the endpoint's own URL: a job's `callbackUrl`. */
  url?: string;
}

export interface DeliveryLogLimits {
  /** Entries kept per endpoint; the oldest go first. */
  maxEntries: number;
  /** Deliveries of one user not finished yet (pending or retrying). */
  maxPending: number;
  /** The log and the pending set expire this long after their last write. */
  retentionMs: number;
}

/**
 * KEYS: order, data, pending. ARGV: id, json, created ms, max entries, max pending, retention ms, dead json.
 * Adds a delivery once (a second add of the same id changes nothing: 0). At the user's pending cap
 * it is logged dead instead (-1), so it shows in the log and can be redelivered later.
 */
const ADD_SCRIPT = `
local order, data, pending = KEYS[1], KEYS[2], KEYS[3]
local id, json, created, maxEntries, maxPending, retentionMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
if redis.call('HEXISTS', data, id) == 1 then return 0 end
redis.call('ZREMRANGEBYSCORE', pending, '-inf', '(' .. (tonumber(created) - tonumber(retentionMs)))
local result = 1
if redis.call('ZCARD', pending) >= maxPending then
  json = ARGV[7]
  result = -1
else
  redis.call('ZADD', pending, created, id)
  redis.call('PEXPIRE', pending, retentionMs)
end
redis.call('HSET', data, id, json)
redis.call('ZADD', order, created, id)
local surplus = redis.call('ZCARD', order) - maxEntries
if surplus > 0 then
  for _, old in ipairs(redis.call('ZRANGE', order, 0, surplus - 1)) do redis.call('HDEL', data, old) end
  redis.call('ZREMRANGEBYRANK', order, 0, surplus - 1)
end
redis.call('PEXPIRE', order, retentionMs)
redis.call('PEXPIRE', data, retentionMs)
return result`;

/**
 * KEYS: data, pending. ARGV: id, json, finished (1/0), created ms, retention ms. Writes a record
 * that is still in the log; a finished delivery leaves the pending set, an open one joins it.
 */
const UPDATE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' then redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return 1`;

type ScriptClient = RedisClient & {
  jobstreamDeliveryAdd(...args: (string | number)[]): Promise<number>;
  jobstreamDeliveryUpdate(...args: (string | number)[]): Promise<number>;
};

const defineAdd = registerScript('jobstreamDeliveryAdd', { numberOfKeys: 3, lua: ADD_SCRIPT });
const defineUpdate = registerScript('jobstreamDeliveryUpdate', { numberOfKeys: 2, lua: UPDATE_SCRIPT });

/** Whether a delivery is over: delivered, or given up. */
export const isFinishedDelivery = (status: WebhookDeliveryStatus): boolean => status === 'delivered' || status === 'dead';

/** The log entry as the api answers it. */
export function publicDelivery(record: DeliveryRecord): WebhookDelivery {
  let payload: unknown = record.body;
  try {
    payload = JSON.parse(record.body);
  } catch {
    // kept as the text that was sent
  }
  return {
    id: record.id,
    endpointId: record.endpointId,
    eventType: record.eventType,
    status: record.status,
    attempts: record.attempts,
    lastStatusCode: record.lastStatusCode,
    lastError: record.lastError,
    responseTimeMs: record.responseTimeMs,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    payload,
    ...(record.url !== undefined ? { url: record.url } : {}),
  };
}

/** Each endpoint's delivery log and each user's pending deliveries. */
export class DeliveryLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<JobstreamKeys, 'webhookDeliveries' | 'webhookPending'>,
    private readonly limits: DeliveryLogLimits,
  ) {
    defineAdd(redis);
    defineUpdate(redis);
  }

  /** Logs a new delivery: 'added', 'exists' (logged before: a replayed batch), or 'over-cap' (logged dead). */
  async add(record: DeliveryRecord): Promise<'added' | 'exists' | 'over-cap'> {
    const log = this.keys.webhookDeliveries(record.endpointId);
    const dead: DeliveryRecord = { ...record, status: 'dead', lastError: `more than ${this.limits.maxPending} deliveries were pending for this user` };
    const result = await (this.redis as ScriptClient).jobstreamDeliveryAdd(
      log.order,
      log.data,
      this.keys.webhookPending(record.owner),
      record.id,
      JSON.stringify(record),
      record.createdAt,
      this.limits.maxEntries,
      this.limits.maxPending,
      this.limits.retentionMs,
      JSON.stringify(dead),
    );
    return result === 1 ? 'added' : result === 0 ? 'exists' : 'over-cap';
  }

  /** Writes the record's new state, if it is still logged; false when it is not. */
  async update(record: DeliveryRecord): Promise<boolean> {
    const written = await (this.redis as ScriptClient).jobstreamDeliveryUpdate(
      this.keys.webhookDeliveries(record.endpointId).data,
      this.keys.webhookPending(record.owner),
      record.id,
      JSON.stringify(record),
      isFinishedDelivery(record.status) ? '1' : '0',
      record.createdAt,
      this.limits.retentionMs,
    );
    return written === 1;
  }

  async get(endpointId: string, id: string): Promise<DeliveryRecord | undefined> {
    const json = await this.redis.hget(this.keys.webhookDeliveries(endpointId).data, id);
    return json === null ? undefined : (JSON.parse(json) as DeliveryRecord);
  }

  /** The endpoint's newest deliveries first. */
  async list(endpointId: string, limit: number): Promise<DeliveryRecord[]> {
    const log = this.keys.webhookDeliveries(endpointId);
    const ids = await this.redis.zrevrange(log.order, 0, limit - 1);
    if (ids.length === 0) return [];
    const values = await this.redis.hmget(log.data, ...ids);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as DeliveryRecord);
  }

  /** Takes a delivery whose log entry is gone out of the user's pending set. */
  async forgetPending(owner: string, id: string): Promise<void> {
    await this.redis.zrem(this.keys.webhookPending(owner), id);
  }

  /** How many of the user's deliveries are not finished. */
  pendingCount(owner: string): Promise<number> {
    return this.redis.zcard(this.keys.webhookPending(owner));
  }
}
