import type { CircuitBreakerStateName, WorkerHeartbeat as Heartbeat } from '@jobstream/contracts';
import type { JobstreamKeys, Logger, RedisClient } from '@jobstream/runtime';
import type { Job, Worker } from 'bullmq';

export interface WorkerHeartbeatOptions {
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'workers'>;
  workerId: string;
  host: string;
  /** How often the heartbeat is written. */
  intervalMs: number;
  logger: Logger;
}

type ActiveJob = Heartbeat['activeJobs'][number];
type BreakerEntry = Heartbeat['breakers'][number];

/**
 * Writes this process's heartbeat to `keys.workers`: the attempts it runs (with their start and
 * last progress) and its circuit breakers. The metrics service turns these into live workers,
 * stalled workers and open breakers. BullMQ's own stall check only notices a lost lock after
 * 30 s and says nothing about a job that hangs while its lock is renewed; this covers both.
 */
export class WorkerHeartbeat {
  private readonly active = new Map<string, ActiveJob>();
  private readonly breakers = new Map<string, BreakerEntry>();
  private timer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(private readonly options: WorkerHeartbeatOptions) {}

  get activeCount(): number {
    return this.active.size;
  }

  /** Follows the worker's attempts through its local events. */
  track(worker: Worker): void {
    worker.on('active', (job: Job) => {
      if (!job.id) return;
      const startedAt = job.processedOn ?? Date.now();
      this.active.set(job.id, { jobId: job.id, type: job.name, startedAt, lastProgressAt: startedAt });
      // Written soon rather than at the next beat: a worker that dies right after taking a job
      // must already list it, or its stall would go unnoticed.
      this.beatSoon();
    });
    worker.on('progress', (job: Job) => {
      const entry = job.id ? this.active.get(job.id) : undefined;
      if (entry) entry.lastProgressAt = Date.now();
    });
    const done = (job: Job | undefined): void => {
      if (job?.id) this.active.delete(job.id);
    };
    worker.on('completed', done);
    worker.on('failed', done);
  }

  /**
   * Stops listing a job this process took but did not run: one held back by the per-user cap goes
   * back to delayed, and BullMQ emits neither `completed` nor `failed` for it; still listed, it would
   * look like a job that makes no progress and raise workerStalled.
   */
  forget(jobId: string): void {
    this.active.delete(jobId);
  }

  /** Records a breaker's state and writes the heartbeat at once, so the alert does not wait for the next beat. */
  setBreaker(name: string, state: CircuitBreakerStateName, failures: number): void {
    this.breakers.set(name, { name, state, failures, changedAt: Date.now() });
    void this.beat();
  }

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.intervalMs);
    this.timer.unref();
  }

  /** One write for all the jobs started within 50 ms, so a burst of starts is not a burst of writes. */
  private beatSoon(): void {
    if (!this.timer || this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.beat();
    }, 50);
    this.soonTimer.unref();
  }

  /** Stops beating and removes this worker's entry: a worker that left cleanly is not "stalled". */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.timer = this.soonTimer = undefined;
    await this.options.redis.hdel(this.options.keys.workers, this.options.workerId).catch(() => undefined);
  }

  async beat(): Promise<void> {
    const heartbeat: Heartbeat = {
      workerId: this.options.workerId,
      host: this.options.host,
      pid: process.pid,
      at: Date.now(),
      intervalMs: this.options.intervalMs,
      activeJobs: [...this.active.values()],
      breakers: [...this.breakers.values()],
    };
    try {
      await this.options.redis.hset(this.options.keys.workers, this.options.workerId, JSON.stringify(heartbeat));
      if (this.failing) this.options.logger.info('heartbeat written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.options.logger.warn({ err }, 'could not write the worker heartbeat');
      this.failing = true;
    }
  }
}
