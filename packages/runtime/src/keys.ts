import type { QueueSettings } from './config.js';

/**
 * Every Redis key jobstream uses. They all start with BullMQ's own `<prefix>:<queue>` so that,
 * with a hash tag in the prefix, one queue and its event history live in one cluster slot
 * (the relay's Lua script writes several of them atomically).
 */
export interface JobstreamKeys {
  /** BullMQ's event stream for the queue: the source the relay reads. */
  bullEvents: string;
  /** BullMQ's hash for one job. */
  job(jobId: string): string;
  /** Prefix of the per-job history streams; the full key is this plus the job id. */
  historyPrefix: string;
  /** One job's lifecycle events, ids equal to the BullMQ event ids. */
  history(jobId: string): string;
  /** The live feed the api replicas follow: one small entry (job id, history id) per event. */
  feed: string;
  /** The id of the last BullMQ event the relay has written out. */
  relayCursor: string;
  /** Held by the one worker process that currently relays. */
  relayLock: string;
  /** Operations: hash with the kill-switch state (enabled, reason, auto, changedAt, changedBy). */
  killSwitch: string;
  /** Capped stream: the kill-switch audit trail (who, when, why). */
  killSwitchAudit: string;
  /** Hash of one calendar month's budget (`YYYY-MM`): spent, limit and the thresholds already acted on. */
  budget(period: string): string;
  /** Hash of one month's charged jobs (job id to cost): a job is charged at most once. */
  budgetCharged(period: string): string;
  /** The id of the last feed entry the metrics service has accounted for. */
  metricsCursor: string;
  /** Hash of finished-job counts for one time bucket (bucket start in ms), for the failure rate. */
  outcomes(bucketStartMs: number): string;
  /** The latest alert evaluation (JSON), written by the metrics service, read by every api replica. */
  alerts: string;
  /** Hash: worker id to its latest heartbeat (JSON: active jobs, circuit breaker state). */
  workers: string;
  /** Capped stream of system notifications (alerts, kill-switch, circuit breaker) for admins. */
  system: string;
}

export function jobstreamKeys(queue: Pick<QueueSettings, 'prefix' | 'name'>): JobstreamKeys {
  const base = `${queue.prefix}:${queue.name}`;
  const historyPrefix = `${base}:js:history:`;
  return {
    bullEvents: `${base}:events`,
    job: (jobId) => `${base}:${jobId}`,
    historyPrefix,
    history: (jobId) => `${historyPrefix}${jobId}`,
    feed: `${base}:js:feed`,
    relayCursor: `${base}:js:relay:cursor`,
    relayLock: `${base}:js:relay:lock`,
    killSwitch: `${base}:js:ops:kill-switch`,
    killSwitchAudit: `${base}:js:ops:kill-switch:audit`,
    budget: (period) => `${base}:js:ops:budget:${period}`,
    budgetCharged: (period) => `${base}:js:ops:budget:${period}:charged`,
    metricsCursor: `${base}:js:ops:metrics:cursor`,
    outcomes: (bucketStartMs) => `${base}:js:ops:outcomes:${bucketStartMs}`,
    alerts: `${base}:js:ops:alerts`,
    workers: `${base}:js:ops:workers`,
    system: `${base}:js:system`,
  };
}
