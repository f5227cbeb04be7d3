import type { LifecycleEvent } from '@jobstream/contracts';
import type { Subscriber } from './subscriber.js';

/**
 * The in-process fan-out: which open streams watch which job. One feed reader fills it for the
 * whole process, and one timer sends every heartbeat, so an open stream costs no timer and no
 * Redis connection of its own.
 */
export class EventHub {
  private readonly byJob = new Map<string, Set<Subscriber>>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private count = 0;
  delivered = 0;

  constructor(private readonly heartbeatMs: number) {}

  add(subscriber: Subscriber): void {
    let set = this.byJob.get(subscriber.jobId);
    if (!set) {
      set = new Set();
      this.byJob.set(subscriber.jobId, set);
    }
    set.add(subscriber);
    this.count += 1;
    this.heartbeatTimer ??= setInterval(() => this.heartbeat(), this.heartbeatMs).unref();
  }

  remove(subscriber: Subscriber): void {
    const set = this.byJob.get(subscriber.jobId);
    if (!set?.delete(subscriber)) return;
    this.count -= 1;
    if (set.size === 0) this.byJob.delete(subscriber.jobId);
  }

  /** Whether any stream in this process watches the job. */
  watches(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  /** Live events for one job, oldest first. */
  dispatch(jobId: string, events: LifecycleEvent[]): void {
    const set = this.byJob.get(jobId);
    if (!set) return;
    for (const subscriber of [...set]) {
      for (const event of events) subscriber.push(event);
      this.delivered += events.length;
    }
  }

  get size(): number {
    return this.count;
  }

  subscribers(): Subscriber[] {
    return [...this.byJob.values()].flatMap((set) => [...set]);
  }

  stop(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private heartbeat(): void {
    const timestamp = new Date().toISOString();
    for (const set of this.byJob.values()) {
      for (const subscriber of set) {
        if (subscriber.open) subscriber.send({ event: 'heartbeat', data: { jobId: subscriber.jobId, timestamp } });
      }
    }
  }
}
