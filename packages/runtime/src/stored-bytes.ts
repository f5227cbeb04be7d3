import type { RedisClient } from './redis.js';
import { registerScript } from './lua-scripts.js';

/*
 * The count behind MAX_STORED_BYTES_PER_USER: what one user's jobs keep in Redis. It is an
 * estimate, not a measurement: JSON sizes plus fixed allowances measured once (Redis 7.0,
 * `MEMORY USAGE`), so a check costs one small hash read instead of walking the user's keys.
 * - The api charges each accepted job: its payload plus `STORED_JOB_BYTES`.
 * - The worker charges each attempt: `STORED_EVENT_BYTES` per event it causes (`active`, every
 *   `progress`, the attempt's end) and, on success, the result `STORED_RESULT_COPIES` times.
 * Charges go to the bucket of the time they are made and are forgotten with it, one retention
 * (plus the bucket) later: about when the data they count is removed (finished jobs and their
 * history are kept JOB_RETENTION_SECONDS).
 */

/**
 * A job's own keys besides its payload, for most of the retention: the job hash (~1.3 KB), its
 * finished history (~0.9 KB: the relay stores it at its size once the job ends; while it runs the
 * stream's first node takes ~4.8 KB), its index entries and its entries in the feed and the owner's
 * channel. `npm run bench -- --only redismem` measured 2.5-2.8 KB per small job in all.
 */
export const STORED_JOB_BYTES = 3_000;

/** One lifecycle event: its entry in the job's history and its copy in the owner's channel. */
export const STORED_EVENT_BYTES = 100;

/** A result is kept in the job hash, in its history's `completed` event and in the owner's channel. */
export const STORED_RESULT_COPIES = 3;

/** Width of one bucket of the count: a 24th of the retention (an hour by default), at least a second. */
export function storedBytesBucketMs(retentionSeconds: number): number {
  return Math.max(1_000, Math.ceil((retentionSeconds * 1_000) / 24));
}

/** How long a bucket is kept after it starts: the retention plus the bucket itself. */
export function storedBytesKeepMs(retentionSeconds: number): number {
  return retentionSeconds * 1_000 + storedBytesBucketMs(retentionSeconds);
}

/** Bytes of a value as BullMQ stores it (JSON); 0 for undefined. */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(json);
}

/**
 * Lua for scripts that read the count. `now_ms()` is Redis's clock (every replica and worker agrees
 * on it); `bucket_of(now, bucketMs)` the field a charge made now goes to; `stored_bytes(key, now,
 * keepMs)` drops the buckets that expired and returns the total of the others and when the oldest
 * of them expires (nil when there is none).
 */
export const LUA_STORED_BYTES = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function bucket_of(now, bucketMs)
  return string.format('%d', now - now % bucketMs)
end
local function stored_bytes(key, now, keepMs)
  local fields = redis.call('HGETALL', key)
  local total, oldest = 0, nil
  for i = 1, #fields, 2 do
    local expires = tonumber(fields[i]) + keepMs
    if expires <= now then
      redis.call('HDEL', key, fields[i])
    else
      total = total + tonumber(fields[i + 1])
      if oldest == nil or expires < oldest then oldest = expires end
    end
  end
  return total, oldest
end
`;

/** Adds ARGV[1] bytes to the current bucket of KEYS[1] (bucket ARGV[2] ms wide) and keeps the hash ARGV[3] ms. */
const CHARGE_SCRIPT = `
${LUA_STORED_BYTES}
redis.call('HINCRBY', KEYS[1], bucket_of(now_ms(), tonumber(ARGV[2])), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

type ChargeClient = RedisClient & {
  jobstreamChargeStoredBytes(key: string, bytes: string, bucketMs: string, keepMs: string): Promise<number>;
};

const defineChargeStoredBytes = registerScript('jobstreamChargeStoredBytes', { numberOfKeys: 1, lua: CHARGE_SCRIPT });

/** Charges `bytes` to the count kept at `key` (`keys.storedBytes(userId)`); nothing for 0 or less. */
export async function chargeStoredBytes(redis: RedisClient, key: string, bytes: number, retentionSeconds: number): Promise<void> {
  if (bytes <= 0) return;
  defineChargeStoredBytes(redis);
  await (redis as ChargeClient).jobstreamChargeStoredBytes(
    key,
    String(Math.ceil(bytes)),
    String(storedBytesBucketMs(retentionSeconds)),
    String(storedBytesKeepMs(retentionSeconds)),
  );
}
