/** Whose a job is and its type, as the relay routes its events. */
export interface JobOwner {
  owner: string;
  jobType: string;
}

/**
 * The owners of the jobs in flight, so that the relay reads a job's owner from Redis once per job
 * instead of once per event. Both never change for a job id: the api makes ids that are random or
 * derived from the owner. A job is forgotten after its last event; the oldest entries go first
 * when more than `maxEntries` jobs are in flight (they are read again if needed).
 */
export class JobOwners {
  private readonly owners = new Map<string, JobOwner>();

  constructor(private readonly maxEntries: number) {}

  get(jobId: string): JobOwner | undefined {
    return this.owners.get(jobId);
  }

  remember(jobId: string, owner: JobOwner): void {
    this.owners.delete(jobId);
    this.owners.set(jobId, owner);
    if (this.owners.size > this.maxEntries) {
      const oldest = this.owners.keys().next();
      if (!oldest.done) this.owners.delete(oldest.value);
    }
  }

  forget(jobId: string): void {
    this.owners.delete(jobId);
  }

  get size(): number {
    return this.owners.size;
  }
}
