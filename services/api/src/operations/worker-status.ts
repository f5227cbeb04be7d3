import { alertsSnapshotSchema, workerHeartbeatSchema, type WorkerHeartbeat, type WorkersResponse, type WorkerStatus } from '@jobstream/contracts';
import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';

const iso = (ms: number): string => new Date(ms).toISOString();
const since = (now: number, ms: number): number => Math.max(0, Math.round(now - ms));

/**
 * One heartbeat as an operator reads it. Live and stalled follow the metrics service's rules
 * (three intervals; a held job without heartbeat or progress past `stallMs`), except that it does
 * not ask BullMQ whether a silent worker's attempt is still held: the metrics service removes the
 * heartbeat of a worker whose jobs were taken over, so a silent worker listed here is one it has
 * not cleared yet.
 */
export function workerStatusOf(beat: WorkerHeartbeat, now: number, stallMs: number | null): WorkerStatus {
  const heartbeatAgeMs = since(now, beat.at);
  const activeJobs = beat.activeJobs.map((job) => ({
    jobId: job.jobId,
    type: job.type,
    startedAt: iso(job.startedAt),
    runningMs: since(now, job.startedAt),
    silentMs: since(now, Math.max(job.startedAt, job.lastProgressAt)),
  }));
  const stalled = stallMs === null ? null : activeJobs.length > 0 && (heartbeatAgeMs > stallMs || activeJobs.some((job) => job.silentMs > stallMs));
  return {
    workerId: beat.workerId,
    host: beat.host,
    pid: beat.pid,
    heartbeatAt: iso(beat.at),
    heartbeatAgeMs,
    live: heartbeatAgeMs <= beat.intervalMs * 3,
    stalled,
    activeJobs,
    breakers: beat.breakers.map((b) => ({ name: b.name, state: b.state, failures: b.failures, changedAt: iso(b.changedAt) })),
  };
}

/** The stall limit of the last alert evaluation, or null when there is none (or it cannot be read). */
function stallLimitOf(stored: string | null): number | null {
  if (!stored) return null;
  try {
    return alertsSnapshotSchema.parse(JSON.parse(stored)).thresholds.workerStallMs;
  } catch {
    return null;
  }
}

/** Every heartbeat in Redis as a worker status, the longest silent (heartbeat, then job) first. */
export async function readWorkerStatuses(
  redis: RedisClient,
  keys: Pick<JobstreamKeys, 'workers' | 'alerts'>,
  logger: Logger,
  now: number = Date.now(),
): Promise<WorkersResponse> {
  const [raw, stored] = await Promise.all([redis.hgetall(keys.workers), redis.get(keys.alerts)]);
  const stallMs = stallLimitOf(stored);
  const workers: WorkerStatus[] = [];
  for (const [field, json] of Object.entries(raw)) {
    let beat: WorkerHeartbeat;
    try {
      beat = workerHeartbeatSchema.parse(JSON.parse(json));
    } catch (err) {
      // The metrics service removes it at its next evaluation; nothing an operator can act on.
      logger.debug({ err, field }, 'skipped an unreadable worker heartbeat');
      continue;
    }
    workers.push(workerStatusOf(beat, now, stallMs));
  }
  const longestSilence = (w: WorkerStatus): number => Math.max(w.heartbeatAgeMs, ...w.activeJobs.map((job) => job.silentMs));
  workers.sort((a, b) => longestSilence(b) - longestSilence(a) || a.workerId.localeCompare(b.workerId));
  return { at: iso(now), stallMs, workers };
}
