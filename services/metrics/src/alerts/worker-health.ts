import { workerHeartbeatSchema, type WorkerHeartbeat } from '@jobstream/contracts';
import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';

export interface WorkerHealth {
  /** Workers whose last heartbeat is within three of their intervals. */
  live: number;
  /** Workers holding an active job without heartbeat or progress past the limit. */
  stalled: number;
  /** Live workers whose circuit breaker is not closed (open or half-open). */
  breakersOpen: number;
  /** Ids of the stalled workers, for the log. */
  stalledWorkers: string[];
}

export interface WorkerHealthOptions {
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'workers' | 'job'>;
  /** BullMQ's list of active job ids (`queue.keys.active`). */
  activeListKey: string;
  stallMs: number;
  logger: Logger;
}

/**
 * Reads the heartbeats the workers write and decides which workers are live and which stalled.
 * A worker is stalled when it holds an active job and either its heartbeat stopped (crashed,
 * frozen event loop, network split) or that job reported no progress for `stallMs` (a hung
 * provider call). A silent worker's entry is removed once none of the attempts it listed is
 * still active: BullMQ's stall check has handed them to another worker, or they finished.
 */
export async function readWorkerHealth(options: WorkerHealthOptions, now: number): Promise<WorkerHealth> {
  const { redis, keys, stallMs } = options;
  const raw = await redis.hgetall(keys.workers);
  const health: WorkerHealth = { live: 0, stalled: 0, breakersOpen: 0, stalledWorkers: [] };
  const silent: WorkerHeartbeat[] = [];
  const garbage: string[] = [];

  for (const [field, json] of Object.entries(raw)) {
    let beat: WorkerHeartbeat;
    try {
      beat = workerHeartbeatSchema.parse(JSON.parse(json));
    } catch {
      garbage.push(field);
      continue;
    }
    const age = now - beat.at;
    if (age <= beat.intervalMs * 3) {
      health.live += 1;
      // Half-open is still open for the alert: it only tries one call, and counting it as closed
      // would resolve and restart the alert every reset interval during a long outage.
      if (beat.breakers.some((b) => b.state !== 'closed')) health.breakersOpen += 1;
    }
    if (age > stallMs) {
      if (beat.activeJobs.length > 0) silent.push(beat);
      else garbage.push(field);
      continue;
    }
    if (beat.activeJobs.some((job) => now - Math.max(job.startedAt, job.lastProgressAt) > stallMs)) {
      health.stalled += 1;
      health.stalledWorkers.push(beat.workerId);
    }
  }

  if (silent.length > 0) {
    const stillHeld = await heldAttempts(options, silent);
    for (const beat of silent) {
      if (stillHeld.has(beat.workerId)) {
        health.stalled += 1;
        health.stalledWorkers.push(beat.workerId);
      } else {
        garbage.push(beat.workerId);
      }
    }
  }
  if (garbage.length > 0) {
    await redis.hdel(keys.workers, ...garbage);
    options.logger.info({ workers: garbage }, 'removed heartbeats of workers that are gone');
  }
  return health;
}

/** Ids of silent workers for which one of their listed attempts is still active in BullMQ. */
async function heldAttempts(options: WorkerHealthOptions, silent: WorkerHeartbeat[]): Promise<Set<string>> {
  const pipeline = options.redis.pipeline();
  const checks: { workerId: string; startedAt: number }[] = [];
  for (const beat of silent) {
    for (const job of beat.activeJobs) {
      pipeline.hget(options.keys.job(job.jobId), 'processedOn');
      pipeline.lpos(options.activeListKey, job.jobId);
      checks.push({ workerId: beat.workerId, startedAt: job.startedAt });
    }
  }
  const results = (await pipeline.exec()) ?? [];
  const held = new Set<string>();
  checks.forEach((check, i) => {
    const processedOn = results[i * 2]?.[1];
    const position = results[i * 2 + 1]?.[1];
    // Same attempt (BullMQ sets processedOn again when another worker takes the job) and still active.
    if (Number(processedOn) === check.startedAt && position !== null && position !== undefined) held.add(check.workerId);
  });
  return held;
}
