import { intVar, userQuotaEnvShape, userQuotaSettingsFrom, type UserQuotaSettings } from '@jobstream/runtime';
import { z } from 'zod';

/**
 * `https://app.example.com/` or `HTTPS://App.Example.com` as a browser sends it in `Origin`
 * (`https://app.example.com`); undefined for anything that is not an http(s) origin. A path,
 * query or credentials are refused rather than dropped: they would never match and hide a typo.
 */
function toOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/') return undefined;
  return url.origin;
}

/** A comma-separated list of origins; empty (the default) allows none, so only same-origin pages call the api. */
const originList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const origins = new Set<string>();
    for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
      const origin = toOrigin(item);
      if (origin === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not an origin such as https://app.example.com (scheme, host and port; no "*", no path)` });
        return z.NEVER;
      }
      origins.add(origin);
    }
    return [...origins];
  });

/** The api's variables for its limits and security headers; merged into the api's env schema. */
export const limitsEnvShape = {
  RATE_LIMIT_ENQUEUE_POINTS: intVar(120, 0, 1_000_000),
  RATE_LIMIT_ENQUEUE_WINDOW_S: intVar(60, 1, 86_400),
  MAX_STREAMS_PER_USER: intVar(20, 0, 100_000),
  MAX_STREAMS_PER_PROCESS: intVar(20_000, 0, 10_000_000),
  STREAM_LEASE_TTL_MS: intVar(30_000, 1_000, 600_000),
  // MAX_QUEUED_JOBS_PER_USER, MAX_STORED_BYTES_PER_USER: shared with the worker, which keeps their counts.
  ...userQuotaEnvShape,
  CORS_ORIGINS: originList,
};

export type LimitsEnv = z.output<z.ZodObject<typeof limitsEnvShape>>;

export interface LimitsConfig {
  enqueue: {
    /**
     * Jobs one user may submit per window (`POST /api/jobs` and the flashcards route), counted in
     * Redis so every replica shares it. Default 120; 0 turns the limit off.
     */
    points: number;
    /** The window, in seconds; it starts with the user's first submission (a fixed window). Default 60. */
    windowS: number;
  };
  streams: {
    /** SSE streams one user may hold open at once, across every replica. Default 20; 0 turns the cap off. */
    maxPerUser: number;
    /**
     * SSE streams one api process holds at most; beyond it a stream request gets 503 SERVER_BUSY so a
     * load balancer tries another replica. Default 20,000 (about 12 KB each); 0 turns the cap off.
     */
    maxPerProcess: number;
    /**
     * Lifetime of a stream's slot in Redis unless its replica renews it (every third of this): how long
     * a crashed replica's streams still count against their users. Default 30 s.
     */
    leaseTtlMs: number;
  };
  /**
   * Per-user quotas checked when a job is submitted (429 JOB_QUOTA_EXCEEDED, STORAGE_QUOTA_EXCEEDED):
   * jobs not finished yet (default 100) and bytes kept in Redis (default 50 MB). 0 turns one off.
   */
  quotas: UserQuotaSettings;
  /** Origins whose pages may call the api (CORS). Default none: same-origin only. */
  corsOrigins: string[];
}

/** Turns the parsed variables into the typed limits settings. */
export function limitsConfigFrom(env: LimitsEnv): LimitsConfig {
  return {
    enqueue: { points: env.RATE_LIMIT_ENQUEUE_POINTS, windowS: env.RATE_LIMIT_ENQUEUE_WINDOW_S },
    streams: {
      maxPerUser: env.MAX_STREAMS_PER_USER,
      maxPerProcess: env.MAX_STREAMS_PER_PROCESS,
      leaseTtlMs: env.STREAM_LEASE_TTL_MS,
    },
    quotas: userQuotaSettingsFrom(env),
    corsOrigins: env.CORS_ORIGINS,
  };
}
