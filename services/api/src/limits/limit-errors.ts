import { ApiError } from '../http/api-error.js';

/** `Retry-After` in whole seconds, rounded up (a client that waits exactly this long is not refused again), at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1_000));
}

/** 429 RATE_LIMITED: the caller submitted its allowance of jobs for the current window. */
export function rateLimited(retryAfterS: number, headers: Record<string, string>): ApiError {
  return new ApiError(429, 'RATE_LIMITED', `Too many jobs submitted; try again in ${retryAfterS} s`, undefined, {
    ...headers,
    'Retry-After': String(retryAfterS),
  });
}

/** 429 TOO_MANY_STREAMS: the caller already holds its share of open streams (on any replica). */
export function tooManyStreams(max: number, retryAfterS: number): ApiError {
  return new ApiError(
    429,
    'TOO_MANY_STREAMS',
    `At most ${max} streams may be open at once per user; close one (or wait ${retryAfterS} s) and reconnect`,
    undefined,
    { 'Retry-After': String(retryAfterS) },
  );
}

/** 503 SERVER_BUSY: this process holds as many streams as it may; another replica (or a later try) may serve it. */
export function serverBusy(retryAfterS: number): ApiError {
  return new ApiError(503, 'SERVER_BUSY', 'This server holds as many streams as it can; try again shortly', undefined, {
    'Retry-After': String(retryAfterS),
  });
}

/** 429 JOB_QUOTA_EXCEEDED: the caller has as many jobs waiting, delayed or running as one user may. */
export function jobQuotaExceeded(max: number, retryAfterS: number): ApiError {
  return new ApiError(
    429,
    'JOB_QUOTA_EXCEEDED',
    `You have ${max} jobs that have not finished yet, the most one user may; submit again once one has finished (its events stream says when)`,
    undefined,
    { 'Retry-After': String(retryAfterS) },
  );
}

/** 429 STORAGE_QUOTA_EXCEEDED: the caller's jobs keep as many bytes in Redis as one user may. */
export function storageQuotaExceeded(stored: number, max: number, retryAfterS: number): ApiError {
  return new ApiError(
    429,
    'STORAGE_QUOTA_EXCEEDED',
    `Your jobs keep about ${stored} bytes (payloads, results and events), and one user may keep ${max}; ` +
      `the oldest are forgotten in ${retryAfterS} s: submit smaller payloads, or try again then`,
    undefined,
    { 'Retry-After': String(retryAfterS) },
  );
}
