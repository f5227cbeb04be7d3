import { jobTypes } from '@jobstream/contracts';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_USER } from './auth.js';

/** BullMQ's queue name jobstream uses by default (QUEUE_NAME). */
export const QUEUE_NAME = 'jobs';

export interface DemoPayload {
  durationMs: number;
  steps?: number;
}

/** A fresh queue prefix, hash-tagged like jobstream's own, so each scenario starts from empty keys. */
export function benchPrefix(kind: string): string {
  return `{bench-${kind}-${randomUUID()}}`;
}

/**
 * The bench's producer: adds `demo.work` jobs straight into the queue with the options the api's
 * enqueue uses (UUID id, the type's retry policy, retention), so enqueueing costs the api nothing
 * while it is being measured. `delayMs` parks a job until the bench promotes it.
 */
export class BenchQueue {
  readonly queue: Queue;
  private readonly connection: Redis;

  constructor(redisUrl: string, readonly prefix: string) {
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    // Redis goes away first when the bench is interrupted; the failure shows up where it matters.
    this.connection.on('error', () => undefined);
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection, prefix });
  }

  async add(payloads: DemoPayload[], delayMs?: number): Promise<Job[]> {
    const retry = jobTypes['demo.work'].retry;
    const jobs: Job[] = [];
    for (let i = 0; i < payloads.length; i += 500) {
      const chunk = payloads.slice(i, i + 500).map((payload) => ({
        name: 'demo.work',
        data: { owner: BENCH_USER, requestHash: 'bench', payload: { steps: 0, ...payload } },
        opts: {
          jobId: randomUUID(),
          attempts: retry.attempts,
          backoff: { type: 'exponential', delay: retry.backoffMs },
          removeOnComplete: { age: 86_400 },
          removeOnFail: { age: 86_400 },
          ...(delayMs ? { delay: delayMs } : {}),
        },
      }));
      jobs.push(...(await this.queue.addBulk(chunk)));
    }
    return jobs;
  }

  async completedCount(): Promise<number> {
    const counts = await this.queue.getJobCounts('completed', 'failed');
    return (counts.completed ?? 0) + (counts.failed ?? 0);
  }

  /** Polls until `count` jobs finished; resolves with the time (ms since the epoch) it saw them, or rejects after `timeoutMs`. */
  async waitFinished(count: number, timeoutMs: number, everyMs = 50): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.completedCount()) >= count) return Date.now();
      if (Date.now() > deadline) throw new Error(`only ${await this.completedCount()} of ${count} jobs finished in ${timeoutMs} ms`);
      await sleep(everyMs);
    }
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.connection.disconnect();
  }
}

/**
 * Promotes parked jobs at an even pace over `spreadMs`, so that their later events are spread out
 * too instead of arriving in one burst.
 */
export async function promoteEvenly(jobs: Job[], spreadMs: number): Promise<void> {
  const started = Date.now();
  let next = 0;
  while (next < jobs.length) {
    const due = spreadMs <= 0 ? jobs.length : Math.min(jobs.length, Math.floor(((Date.now() - started) / spreadMs) * jobs.length) + 1);
    const batch: Promise<void>[] = [];
    for (; next < due; next += 1) batch.push((jobs[next] as Job).promote());
    await Promise.all(batch);
    if (next < jobs.length) await sleep(5);
  }
}
