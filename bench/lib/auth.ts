import { SignJWT } from 'jose';

/** The secret the bench's apis verify tokens with (AUTH_MODE=jwt, as in production). */
export const BENCH_JWT_SECRET = 'bench-secret-of-the-jobstream-benchmark-suite-0123456789';

/** The owner of every job the bench adds; its load clients stream and poll as this user. */
export const BENCH_USER = 'bench-user';

/**
 * The per-user quotas of api and worker for a bench run: every job belongs to the one bench user,
 * far past a real user's quotas (jobs not finished, bytes kept, jobs running at once). They are
 * raised out of reach rather than turned off (0), so that api and worker still do their
 * bookkeeping per job, as deployed.
 */
export const benchQuotaEnv: Record<string, string> = {
  MAX_QUEUED_JOBS_PER_USER: '1000000',
  MAX_STORED_BYTES_PER_USER: String(Number.MAX_SAFE_INTEGER),
  MAX_ACTIVE_JOBS_PER_USER: '1000000',
};

/** The api's auth and limit settings for a bench run: one user opens every stream, so the per-user caps are lifted. */
export const benchAuthEnv: Record<string, string> = {
  ...benchQuotaEnv,
  AUTH_MODE: 'jwt',
  JWT_SECRET: BENCH_JWT_SECRET,
  RATE_LIMIT_ENQUEUE_POINTS: '1000000',
  MAX_STREAMS_PER_USER: '100000',
  MAX_STREAMS_PER_PROCESS: '1000000',
};

/** `Authorization` header value for the bench user, valid for a day. */
export async function benchAuthorization(): Promise<string> {
  const token = await new SignJWT({ roles: [] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(BENCH_USER)
    .setIssuedAt()
    .setExpirationTime('24h')
    .sign(new TextEncoder().encode(BENCH_JWT_SECRET));
  return `Bearer ${token}`;
}
