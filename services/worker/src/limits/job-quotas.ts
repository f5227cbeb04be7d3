import {
  chargeStoredBytes,
  jsonBytes,
  STORED_EVENT_BYTES,
  STORED_RESULT_COPIES,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
  type UserQuotaSettings,
} from '@jobstream/runtime';
import { ActiveSlots } from './active-slots.js';

/** A held job's first wait is 250–500 ms; it grows with how long the job has been held, up to 5–10 s. */
const MIN_HOLD_MS = 500;
const MAX_HOLD_MS = 10_000;

/**
 * How long a job held back at the active cap waits before it asks again: between half and all of
 * the time it has been held (jittered, so held jobs do not come back together). Each round trip
 * writes three events to the job's history (`active`, `delayed`, `waiting`), so the asking slows
 * down; a worker that frees a slot wakes the oldest held job at once, and the wait is only the
 * fallback when that wake missed (it raced the job's move to delayed, or a dead worker's slot lapsed).
 */
export function holdBackMs(heldForMs: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_HOLD_MS, Math.max(MIN_HOLD_MS, heldForMs));
  return Math.round(base * (0.5 + random() / 2));
}

/** The worker's side of the per-user quotas: MAX_ACTIVE_JOBS_PER_USER, and the counts behind the api's two. */
export interface WorkerQuotaSettings extends UserQuotaSettings {
  /** Jobs of one user running at once across every worker. Default 2; 0: off. */
  maxActiveJobs: number;
}

export interface JobQuotasOptions {
  /** The worker's command connection. */
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'activeJobSlots' | 'heldJobs' | 'unfinishedJobs' | 'storedBytes'>;
  quotas: WorkerQuotaSettings;
  /** Lease of an active slot (WORKER_LOCK_DURATION_MS): a crashed worker's slots come back after it. */
  slotLeaseMs: number;
  /** JOB_RETENTION_SECONDS: how long stored bytes count. */
  retentionSeconds: number;
  /**
   * EVENT_RESULT_INLINE_MAX_BYTES: a larger result is kept in the job hash only (events carry a
   * marker instead), so it is charged once rather than STORED_RESULT_COPIES times. 0: always inline.
   */
  resultInlineMaxBytes?: number;
  /** Moves a delayed job to waiting at once (BullMQ's promote); throws when it is not delayed (any more). */
  promote: (jobId: string) => Promise<void>;
  logger: Logger;
}

/** How an attempt ended, for the counts. */
export interface AttemptEnd {
  /** `retry`: the attempt failed and another one follows; `completed` and `failed` are final. */
  outcome: 'completed' | 'failed' | 'retry';
  /** The result of a completed attempt. */
  result?: unknown;
  /** `progress` events the attempt reported. */
  progressReports: number;
}

/** An admitted attempt: call `end` exactly once when it is over, whatever happened. Never throws. */
export interface AdmittedAttempt {
  end(how: AttemptEnd): Promise<void>;
}

export type Admission =
  | { run: true; attempt: AdmittedAttempt }
  /** The owner runs as many jobs as the cap allows: move the job to delayed for `delayMs`. */
  | { run: false; delayMs: number };

/** One of these per worker process; only built when at least one quota is on. */
export class JobQuotas {
  private readonly slots: ActiveSlots | undefined;
  private readonly log: Logger;

  constructor(private readonly options: JobQuotasOptions) {
    this.log = options.logger.child({ component: 'job-quotas' });
    this.slots =
      options.quotas.maxActiveJobs > 0
        ? new ActiveSlots({
            redis: options.redis,
            keys: options.keys,
            maxPerUser: options.quotas.maxActiveJobs,
            leaseMs: options.slotLeaseMs,
            logger: options.logger,
          })
        : undefined;
    this.slots?.start();
  }

  /** Whether any quota is on (otherwise a worker needs no JobQuotas at all). */
  static anyOn(quotas: WorkerQuotaSettings): boolean {
    return quotas.maxActiveJobs > 0 || quotas.maxQueuedJobs > 0 || quotas.maxStoredBytes > 0;
  }

  /**
   * Takes an active slot for an attempt of `jobId` of `owner` (a job without an owner is not
   * counted). Redis errors are thrown: the attempt then fails like any other Redis error would fail it.
   */
  async admit(owner: string | undefined, jobId: string): Promise<Admission> {
    if (owner === undefined) return { run: true, attempt: { end: async () => undefined } };
    const slot = this.slots ? await this.slots.acquire(owner, jobId) : undefined;
    if (slot && !slot.granted) return { run: false, delayMs: holdBackMs(slot.heldForMs) };
    let ended = false;
    return {
      run: true,
      attempt: {
        end: async (how) => {
          if (ended) return;
          ended = true;
          await this.settle(owner, jobId, how, slot?.granted ? slot.release : undefined);
        },
      },
    };
  }

  /** Stops renewing slots (shutdown); those still held lapse with their jobs' locks. */
  stop(): void {
    this.slots?.stop();
  }

  private async settle(owner: string, jobId: string, how: AttemptEnd, release: (() => Promise<string | undefined>) | undefined): Promise<void> {
    const { quotas, keys, redis } = this.options;
    const final = how.outcome !== 'retry';
    // The attempt's `active`, its progress and its end (`completed` or `failed`); the result kept three
    // times, or once when it is too large to travel in events.
    const resultBytes = how.outcome === 'completed' ? jsonBytes(how.result) : 0;
    const inlineMax = this.options.resultInlineMaxBytes ?? 0;
    const copies = inlineMax > 0 && resultBytes > inlineMax ? 1 : STORED_RESULT_COPIES;
    const bytes = STORED_EVENT_BYTES * (2 + how.progressReports) + resultBytes * copies;
    const [released, ...rest] = await Promise.allSettled([
      release ? release() : Promise.resolve(undefined),
      final && quotas.maxQueuedJobs > 0 ? redis.zrem(keys.unfinishedJobs(owner), jobId) : Promise.resolve(0),
      quotas.maxStoredBytes > 0 ? chargeStoredBytes(redis, keys.storedBytes(owner), bytes, this.options.retentionSeconds) : Promise.resolve(),
    ]);
    for (const result of [released, ...rest]) {
      // Each lapses or is corrected by itself: a slot by its lease, the unfinished set by the api's check of finished jobs.
      if (result?.status === 'rejected') this.log.warn({ err: result.reason, jobId }, 'could not update the owner\'s quota counts');
    }
    if (released?.status === 'fulfilled' && released.value) void this.wake(released.value);
  }

  private async wake(jobId: string): Promise<void> {
    try {
      await this.options.promote(jobId);
    } catch (err) {
      // Not delayed (yet, or any more): it asks again when its own delay ends.
      this.log.debug({ err, jobId }, 'could not wake a held job');
    }
  }
}
