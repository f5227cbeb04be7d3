/**
 * The jobs this browser knows, per user, in localStorage: the api has no "list my jobs" route yet,
 * so a reload shows the jobs submitted (or seen on the stream) here, refetched by id. Only ids,
 * types and creation times are kept; everything else comes from the api.
 */
export interface StoredJob {
  jobId: string;
  type: string;
  createdAt: string | undefined;
}

/** Most jobs remembered; older ones fall off (the api forgets them after its retention anyway). */
export const MAX_STORED_JOBS = 50;

const keyFor = (userId: string): string => `jobstream.jobs.v1.${userId}`;

function isStoredJob(value: unknown): value is StoredJob {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.jobId === 'string' && typeof v.type === 'string' && (v.createdAt === undefined || typeof v.createdAt === 'string');
}

export function loadStoredJobs(userId: string): StoredJob[] {
  try {
    const raw = localStorage.getItem(keyFor(userId));
    if (raw === null) return [];
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isStoredJob).slice(0, MAX_STORED_JOBS) : [];
  } catch {
    // Unreadable or disabled storage: start empty rather than fail the page.
    return [];
  }
}

export function saveStoredJobs(userId: string, jobs: readonly StoredJob[]): void {
  try {
    localStorage.setItem(keyFor(userId), JSON.stringify(jobs.slice(0, MAX_STORED_JOBS)));
  } catch {
    // Quota or disabled storage: the list still works for this page's lifetime.
  }
}
