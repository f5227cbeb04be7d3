/**
 * What this browser remembers about the user's jobs, per user, in localStorage:
 * - the jobs it showed (ids, types and creation times only, refetched by id): the list after a
 *   reload when the api cannot list jobs (an api older than `GET /api/jobs`, or one that failed to
 *   answer it);
 * - the ids "Clear finished" removed, so they stay gone after a reload although the api still
 *   lists them.
 */
export interface StoredJob {
  jobId: string;
  type: string;
  createdAt: string | undefined;
}

/** Most jobs remembered; older ones fall off (the api forgets them after its retention anyway). */
export const MAX_STORED_JOBS = 50;

/** Most cleared ids remembered: as many as the api lists per user. */
export const MAX_HIDDEN_JOBS = 1_000;

const keyFor = (userId: string): string => `jobstream.jobs.v1.${userId}`;
const hiddenKeyFor = (userId: string): string => `jobstream.jobs.hidden.v1.${userId}`;

function isStoredJob(value: unknown): value is StoredJob {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.jobId === 'string' && typeof v.type === 'string' && (v.createdAt === undefined || typeof v.createdAt === 'string');
}

function read(key: string): unknown[] {
  try {
    const raw = localStorage.getItem(key);
    if (raw === null) return [];
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    // Unreadable or disabled storage: start empty rather than fail the page.
    return [];
  }
}

function write(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Quota or disabled storage: the list still works for this page's lifetime.
  }
}

export function loadStoredJobs(userId: string): StoredJob[] {
  return read(keyFor(userId)).filter(isStoredJob).slice(0, MAX_STORED_JOBS);
}

export function saveStoredJobs(userId: string, jobs: readonly StoredJob[]): void {
  write(keyFor(userId), jobs.slice(0, MAX_STORED_JOBS));
}

/** The ids "Clear finished" removed, most recent first. */
export function loadHiddenJobs(userId: string): string[] {
  return read(hiddenKeyFor(userId))
    .filter((id): id is string => typeof id === 'string')
    .slice(0, MAX_HIDDEN_JOBS);
}

export function saveHiddenJobs(userId: string, jobIds: readonly string[]): void {
  write(hiddenKeyFor(userId), jobIds.slice(0, MAX_HIDDEN_JOBS));
}

/** Removes everything kept for the user (on sign-out: the next person at this browser sees none of it). */
export function forgetStoredJobs(userId: string): void {
  try {
    localStorage.removeItem(keyFor(userId));
    localStorage.removeItem(hiddenKeyFor(userId));
  } catch {
    // Disabled storage kept nothing.
  }
}
