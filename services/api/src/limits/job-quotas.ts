import {
  LUA_STORED_BYTES,
  STORED_JOB_BYTES,
  storedBytesBucketMs,
  storedBytesKeepMs,
  registerScript,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
  type UserQuotaSettings,
} from '@jobstream/runtime';
import { jobQuotaExceeded, retryAfterSeconds, storageQuotaExceeded } from './limit-errors.js';

/*
 * Admission of a new job against its owner's two quotas, in one script so that the check and the
 * count are one step: two submissions racing for the last place cannot both get it, on any replica.
 * - Jobs not finished yet: a sorted set of the owner's job ids. The worker removes a job after its
 *   last attempt; a job that ended some other way (failed by stalling too often, removed by hand,
 *   an api that died between the count and the add) is dropped when the owner reaches the cap and
 *   its job hash shows it finished or is gone.
 * - Bytes kept in Redis: the buckets of `stored-bytes.ts`; the payload and an allowance for the job's
 *   own keys are charged here.
 */

/**
 * KEYS: unfinished set, stored-bytes hash. ARGV: job id, max queued, max bytes, charge, bucket ms,
 * keep ms. Returns {1, bucket} when admitted (bucket '' when nothing was charged), {1, '', 1} for a
 * job counted already, {-1, queued} at the queued cap, {-2, stored, ms until the oldest bucket
 * expires} at the bytes cap.
 */
const ADMIT_SCRIPT = `
${LUA_STORED_BYTES}
local jobId, maxQueued, maxBytes, charge = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local keepMs = tonumber(ARGV[6])
local now = now_ms()
if maxQueued > 0 then
  -- The same job again (a concurrent submission of one idempotency key): it takes no second place.
  if redis.call('ZSCORE', KEYS[1], jobId) then return {1, '', 1} end
  local queued = redis.call('ZCARD', KEYS[1])
  if queued >= maxQueued then return {-1, queued} end
end
local bucket = ''
if maxBytes > 0 then
  local stored, oldest = stored_bytes(KEYS[2], now, keepMs)
  -- A user with nothing stored may always store one job, so a cap below one body locks nobody out.
  if stored > 0 and stored + charge > maxBytes then return {-2, stored, oldest - now} end
  bucket = bucket_of(now, tonumber(ARGV[5]))
  redis.call('HINCRBY', KEYS[2], bucket, charge)
  redis.call('PEXPIRE', KEYS[2], keepMs)
end
if maxQueued > 0 then
  redis.call('ZADD', KEYS[1], now, jobId)
  redis.call('PEXPIRE', KEYS[1], keepMs)
end
return {1, bucket}`;

/** KEYS: unfinished set, stored-bytes hash. ARGV: job id, bucket ('' for none), charge. Takes an admission back. */
const UNDO_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then redis.call('HINCRBY', KEYS[2], ARGV[2], -tonumber(ARGV[3])) end
return 1`;

/**
 * KEYS: unfinished set, then the job hash of each id in ARGV[2..]. ARGV[1]: grace ms. Drops the ids
 * whose job finished (`finishedOn` is set) or whose hash is gone and that were counted longer than
 * the grace ago (younger ones may be jobs being added right now). Returns how many were dropped.
 */
const SWEEP_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dropped = 0
for i = 2, #ARGV do
  local since = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if since then
    local gone = redis.call('EXISTS', KEYS[i]) == 0 and tonumber(since) + tonumber(ARGV[1]) < now
    if gone or redis.call('HEXISTS', KEYS[i], 'finishedOn') == 1 then
      redis.call('ZREM', KEYS[1], ARGV[i])
      dropped = dropped + 1
    end
  end
end
return dropped`;

type QuotaClient = RedisClient & {
  jobstreamAdmitJob(...args: string[]): Promise<[number, number | string, number?]>;
  jobstreamUndoAdmitJob(unfinished: string, stored: string, jobId: string, bucket: string, charge: string): Promise<number>;
  jobstreamSweepUnfinished(...args: string[]): Promise<number>;
};

/** How long a counted job whose hash does not exist yet is taken for one being added. */
const ADD_GRACE_MS = 2_000;
/** At most one sweep of a user's unfinished jobs per this long and api process (a user at the cap retrying costs little). */
const SWEEP_INTERVAL_MS = 1_000;
/** Ids looked at per sweep: the oldest, the likeliest to have ended. */
const SWEEP_BATCH = 500;
/** `Retry-After` at the queued cap: a place frees when one of the user's jobs finishes, which nobody can predict. */
const QUEUED_RETRY_AFTER_S = 5;

export interface JobQuotasOptions {
  /** The api's command connection. */
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'unfinishedJobs' | 'storedBytes' | 'job'>;
  quotas: UserQuotaSettings;
  /** JOB_RETENTION_SECONDS: how long stored bytes count. */
  retentionSeconds: number;
  logger: Logger;
}

/** A new job of one user, as the quotas see it. */
export interface QuotaClaim {
  owner: string;
  jobId: string;
  /** JSON bytes of the payload. */
  payloadBytes: number;
}

const defineAdmitJob = registerScript('jobstreamAdmitJob', { numberOfKeys: 2, lua: ADMIT_SCRIPT });
const defineUndoAdmitJob = registerScript('jobstreamUndoAdmitJob', { numberOfKeys: 2, lua: UNDO_SCRIPT });
const defineSweepUnfinished = registerScript('jobstreamSweepUnfinished', { lua: SWEEP_SCRIPT });

/** Per-user quotas on jobs not finished yet and on bytes kept in Redis, shared by every replica. */
export class JobQuotas {
  private readonly client: QuotaClient;
  private readonly lastSweep = new Map<string, number>();
  private readonly log: Logger;

  constructor(private readonly options: JobQuotasOptions) {
    const redis = options.redis;
    defineAdmitJob(redis);
    defineUndoAdmitJob(redis);
    defineSweepUnfinished(redis);
    this.client = redis as QuotaClient;
    this.log = options.logger.child({ component: 'job-quotas' });
  }

  /** Whether any quota is on. */
  get enabled(): boolean {
    return this.options.quotas.maxQueuedJobs > 0 || this.options.quotas.maxStoredBytes > 0;
  }

  /**
   * Counts a new job against its owner's quotas, or throws 429 JOB_QUOTA_EXCEEDED /
   * STORAGE_QUOTA_EXCEEDED (or the Redis error). Returns how to take the count back when the job
   * could not be added after all.
   */
  async admit(claim: QuotaClaim): Promise<() => Promise<void>> {
    const charge = claim.payloadBytes + STORED_JOB_BYTES;
    let outcome = await this.run(claim, charge);
    if (outcome[0] === -1 && (await this.sweep(claim.owner)) > 0) outcome = await this.run(claim, charge);
    // The third member: ms until the oldest bucket expires at the bytes cap, 1 for a job counted already.
    const [status, value, third] = outcome;
    if (status === -1) throw jobQuotaExceeded(this.options.quotas.maxQueuedJobs, QUEUED_RETRY_AFTER_S);
    if (status === -2) throw storageQuotaExceeded(Number(value), this.options.quotas.maxStoredBytes, retryAfterSeconds(third ?? 0));
    // Counted already (the same job submitted or retried twice at once): the place is the other
    // request's, and so is taking it back.
    if (status === 1 && third === 1) return async () => undefined;
    const bucket = String(value);
    const { unfinishedJobs, storedBytes } = this.options.keys;
    return async () => {
      await this.client.jobstreamUndoAdmitJob(unfinishedJobs(claim.owner), storedBytes(claim.owner), claim.jobId, bucket, String(charge));
    };
  }

  private run(claim: QuotaClaim, charge: number): Promise<[number, number | string, number?]> {
    const { quotas, keys, retentionSeconds } = this.options;
    return this.client.jobstreamAdmitJob(
      keys.unfinishedJobs(claim.owner),
      keys.storedBytes(claim.owner),
      claim.jobId,
      String(quotas.maxQueuedJobs),
      String(quotas.maxStoredBytes),
      String(charge),
      String(storedBytesBucketMs(retentionSeconds)),
      String(storedBytesKeepMs(retentionSeconds)),
    );
  }

  /** Drops the owner's counted jobs that ended without the worker saying so; returns how many. */
  private async sweep(owner: string): Promise<number> {
    const now = Date.now();
    if (now - (this.lastSweep.get(owner) ?? 0) < SWEEP_INTERVAL_MS) return 0;
    if (this.lastSweep.size > 10_000) this.lastSweep.clear();
    this.lastSweep.set(owner, now);
    const key = this.options.keys.unfinishedJobs(owner);
    const ids = await this.client.zrange(key, 0, SWEEP_BATCH - 1);
    if (ids.length === 0) return 0;
    const dropped = await this.client.jobstreamSweepUnfinished(
      String(ids.length + 1),
      key,
      ...ids.map((id) => this.options.keys.job(id)),
      String(ADD_GRACE_MS),
      ...ids,
    );
    if (dropped > 0) this.log.info({ owner, dropped }, 'dropped jobs that ended without their worker from the unfinished count');
    return dropped;
  }
}
