import { z } from 'zod';
import { checkRedisEnv, redisEnvShape, redisTargetFrom, type RedisTarget } from './redis-env.js';

/** Thrown by `loadConfig` functions: lists every bad variable at once. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`Invalid ${service} configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Variables whose value is a secret by name: a rejected value is never repeated. */
const SECRET_NAME = /SECRET|PASSWORD|PASSPHRASE|TOKEN|CREDENTIAL|PRIVATE|API_KEY|_DSN$/i;

/**
 * How a rejected value is shown in a configuration error: as it is, except that secrets are not
 * shown at all and the credentials of a URL (`redis://:password@host`) are masked.
 */
export function describeRejectedValue(name: string, value: string): string {
  if (SECRET_NAME.test(name)) return `a value of ${value.length} characters, not shown`;
  const masked = value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#\s]*@/i, '$1***@');
  return `"${masked}"`;
}

/** Parses `env` with `schema`; on failure throws one ConfigError naming each variable and why. */
export function parseEnv<S extends z.ZodType>(service: string, schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
    return `${name}: ${issue.message}${value === undefined ? '' : ` (got ${describeRejectedValue(name, value)})`}`;
  });
  throw new ConfigError(service, problems);
}

/** An integer variable with a default and bounds. */
export function intVar(defaultValue: number, min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return z.coerce.number().int().min(min).max(max).default(defaultValue);
}

/** An optional variable; set but empty (`SENTRY_DSN=` in an env file) counts as unset. */
export function optionalVar<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
}

/** A boolean variable: true/false, 1/0, yes/no. */
export function boolVar(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
}

/** The variables every service shares: how to reach Redis, where the queue lives, how to log. */
export const commonEnvShape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: boolVar(false),
  ...redisEnvShape,
  QUEUE_PREFIX: z
    .string()
    .regex(/^[^\s:]+$/, 'must not contain spaces or ":"')
    .default('{jobstream}'),
  QUEUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, "_", "." or "-"')
    .default('jobs'),
  JOB_RETENTION_SECONDS: intVar(86_400, 60),
  EVENTS_STREAM_MAX_LEN: intVar(10_000, 100),
  FEED_MAX_LEN: intVar(100_000, 1_000),
  JOB_HISTORY_MAX_LEN: intVar(1_000, 10),
  SENTRY_DSN: optionalVar(z.url()),
  SENTRY_ENVIRONMENT: optionalVar(z.string().min(1)),
};

/** Cross-field rule: on a Redis Cluster every key of the queue must hash to one slot. */
export function requireHashTagOnCluster(
  env: { REDIS_CLUSTER_NODES?: string[] | undefined; QUEUE_PREFIX: string },
  ctx: z.RefinementCtx,
): void {
  if (env.REDIS_CLUSTER_NODES && !/\{[^}]+\}/.test(env.QUEUE_PREFIX)) {
    ctx.addIssue({
      code: 'custom',
      path: ['QUEUE_PREFIX'],
      message: 'must contain a hash tag such as {jobstream} when REDIS_CLUSTER_NODES is set',
    });
  }
}

export type CommonEnv = z.output<z.ZodObject<typeof commonEnvShape>>;

/** The cross-field rules of the common variables: the hash tag on a cluster, and the Redis AUTH and TLS rules. */
export function checkCommonEnv(env: CommonEnv, ctx: z.RefinementCtx): void {
  requireHashTagOnCluster(env, ctx);
  checkRedisEnv(env, ctx);
}

/** Where the queue and jobstream's own keys live, and how long things are kept. */
export interface QueueSettings {
  prefix: string;
  name: string;
  retentionSeconds: number;
  eventsStreamMaxLen: number;
  feedMaxLen: number;
  historyMaxLen: number;
}

/** What every service's host needs (see service-host.ts), taken from the common variables. */
export interface ServiceSettings {
  /** LOG_LEVEL; default `info`. */
  logLevel: CommonEnv['LOG_LEVEL'];
  /** LOG_PRETTY: colored lines for a person at a terminal; default false (JSON lines). */
  logPretty: boolean;
  redis: RedisTarget;
  queue: QueueSettings;
  /** Error reporting; off unless `SENTRY_DSN` is set. */
  sentry: { dsn?: string | undefined; environment?: string | undefined };
}

export function serviceSettingsFrom(env: CommonEnv): ServiceSettings {
  return {
    logLevel: env.LOG_LEVEL,
    logPretty: env.LOG_PRETTY,
    redis: redisTargetFrom(env),
    queue: queueSettingsFrom(env),
    sentry: { dsn: env.SENTRY_DSN, environment: env.SENTRY_ENVIRONMENT },
  };
}

/**
 * The notification limits, shared by the api (which writes inboxes and notifications) and the
 * worker (whose relay writes job events to the owners' channels). Nothing grows without bound:
 * channels are capped and expire, inboxes are capped and their items expire.
 */
export const notificationEnvShape = {
  NOTIFICATION_RETENTION_SECONDS: intVar(604_800, 1),
  INBOX_MAX_ITEMS: intVar(500, 1, 100_000),
  NOTIFICATION_STREAM_MAX_LEN: intVar(1_000, 10, 1_000_000),
};

export type NotificationEnv = z.output<z.ZodObject<typeof notificationEnvShape>>;

/** How long notifications are kept and how many, taken from the notification variables. */
export interface NotificationSettings {
  /** How long an inbox item lives; also how long an idle channel (no new entry) is kept. Default 7 days. */
  retentionSeconds: number;
  /** Most items one user's inbox holds; the oldest go first. Default 500. */
  inboxMaxItems: number;
  /** Entries kept per user or topic channel (approximate trimming): the resume window. Default 1,000. */
  streamMaxLen: number;
}

export function notificationSettingsFrom(env: NotificationEnv): NotificationSettings {
  return {
    retentionSeconds: env.NOTIFICATION_RETENTION_SECONDS,
    inboxMaxItems: env.INBOX_MAX_ITEMS,
    streamMaxLen: env.NOTIFICATION_STREAM_MAX_LEN,
  };
}

/**
 * The per-user quotas kept in Redis, shared by the api (which refuses submissions at them) and the
 * worker (which keeps their counts: it drops finished jobs and charges results). Set them alike
 * on both; a worker does none of the bookkeeping of a quota that is off (0).
 */
export const userQuotaEnvShape = {
  MAX_QUEUED_JOBS_PER_USER: intVar(100, 0, 1_000_000),
  MAX_STORED_BYTES_PER_USER: intVar(50_000_000, 0),
};

export type UserQuotaEnv = z.output<z.ZodObject<typeof userQuotaEnvShape>>;

export interface UserQuotaSettings {
  /** Jobs of one user not finished yet (waiting, delayed or active), across every replica. Default 100; 0: off. */
  maxQueuedJobs: number;
  /**
   * Bytes one user's jobs keep in Redis (payloads, results, history; an estimate, see
   * `stored-bytes.ts`), counted for JOB_RETENTION_SECONDS. Default 50 MB; 0: off.
   */
  maxStoredBytes: number;
}

export function userQuotaSettingsFrom(env: UserQuotaEnv): UserQuotaSettings {
  return { maxQueuedJobs: env.MAX_QUEUED_JOBS_PER_USER, maxStoredBytes: env.MAX_STORED_BYTES_PER_USER };
}

export function queueSettingsFrom(env: CommonEnv): QueueSettings {
  return {
    prefix: env.QUEUE_PREFIX,
    name: env.QUEUE_NAME,
    retentionSeconds: env.JOB_RETENTION_SECONDS,
    eventsStreamMaxLen: env.EVENTS_STREAM_MAX_LEN,
    feedMaxLen: env.FEED_MAX_LEN,
    historyMaxLen: env.JOB_HISTORY_MAX_LEN,
  };
}
