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
  };
}
