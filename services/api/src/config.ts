import {
  optionalVar,
  boolVar,
  commonEnvShape,
  intVar,
  notificationEnvShape,
  notificationSettingsFrom,
  parseEnv,
  checkPushEnv,
  pushEnvShape,
  pushSettingsFrom,
  type PushSettings,
  serviceSettingsFrom,
  type ServiceSettings,
  checkCommonEnv,
  type NotificationSettings,
  webhookEnvShape,
  webhookSettingsFrom,
  type WebhookSettings,
} from '@jobstream/runtime';
import { EVENT_RESULT_INLINE_MAX_BYTES } from '@jobstream/contracts';
import { z } from 'zod';
import { authConfigFrom, authEnvShape, checkAuthEnv, type AuthConfig } from './auth/auth-config.js';
import { dashboardConfigFrom, dashboardEnvShape, type DashboardConfig } from './http/dashboard-config.js';
import { limitsConfigFrom, limitsEnvShape, type LimitsConfig } from './limits/limits-config.js';

const apiEnvSchema = z
  .object({
    ...commonEnvShape,
    ...notificationEnvShape,
    ...webhookEnvShape,
    PORT: intVar(3000, 0, 65_535),
    HOST: z.string().min(1).default('0.0.0.0'),
    BODY_LIMIT_BYTES: intVar(100_000, 1_024, 50_000_000),
    SSE_HEARTBEAT_MS: intVar(15_000, 100, 300_000),
    SSE_RETRY_MS: intVar(3_000, 100, 300_000),
    SSE_MAX_BUFFER_BYTES: intVar(1_048_576, 4_096),
    EVENT_RESULT_INLINE_MAX_BYTES: intVar(EVENT_RESULT_INLINE_MAX_BYTES, 0),
    SHUTDOWN_TIMEOUT_MS: intVar(10_000, 0),
    KILL_SWITCH_REFRESH_MS: intVar(250, 50, 500),
    API_METRICS_ENABLED: boolVar(true),
    JOB_ID_SECRET: optionalVar(z.string().min(32, 'must be at least 32 characters (use a random secret)')),
    ...authEnvShape,
    ...limitsEnvShape,
    ...dashboardEnvShape,
    ...pushEnvShape,
  })
  .superRefine(checkCommonEnv)
  .superRefine(checkPushEnv)
  .superRefine(checkAuthEnv);

/** The host's settings (logging, Redis, queue, Sentry) and the api service's own. */
export interface ApiConfig extends ServiceSettings {
  /** Inbox size, retention and channel caps (NOTIFICATION_RETENTION_SECONDS, INBOX_MAX_ITEMS, NOTIFICATION_STREAM_MAX_LEN). */
  notifications: NotificationSettings;
  /** Webhook endpoints: the target allowlist, the per-user caps, the log (WEBHOOK_*; set them as on the worker). */
  webhooks: WebhookSettings;
  /** Default 3000; 0 picks a free port. */
  port: number;
  /** Default 0.0.0.0. */
  host: string;
  /** Largest accepted request body. Default 100 kB. */
  bodyLimitBytes: number;
  sse: {
    /** Interval of the heartbeat on every open stream. Default 15 s (under the 60 s proxy idle timeouts). */
    heartbeatMs: number;
    /** The `retry:` hint sent to browsers. Default 3 s. */
    retryMs: number;
    /** Bytes queued for one slow client before its stream is closed. Default 1 MiB. */
    maxBufferBytes: number;
    /** Results of more JSON bytes than this are left out of the job snapshot in `connected` and `reset`. Default 16 KiB; 0: never. */
    resultInlineMaxBytes: number;
  };
  /** How long SIGTERM waits for requests and streams to close. Default 10 s. */
  shutdownTimeoutMs: number;
  /** Who is calling: AUTH_MODE and its settings. */
  auth: AuthConfig;
  /** Rate limit, stream caps, CORS allowlist (see limits/limits-config.ts). */
  limits: LimitsConfig;
  /** The web dashboard served at `/` (DASHBOARD_DIR). */
  dashboard: DashboardConfig;
  /** How often the replica re-reads the kill-switch. Default 250 ms, at most 500 (changes apply within a second). */
  killSwitchRefreshMs: number;
  /**
   * Keys the ids of jobs submitted with an idempotency key, so they cannot be computed from the key.
   * Default: a random secret the first replica stores in Redis and every replica reads.
   */
  jobIdSecret?: string | undefined;
  /** Serve GET /metrics on the api's port. Default true. */
  metricsEnabled: boolean;
  /** Push subscriptions: the VAPID keys (push is off without them), the per-user cap, the endpoints allowed. */
  push: PushSettings;
}

/** Reads the api's configuration from the environment; throws one error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = parseEnv('api', apiEnvSchema, env);
  return {
    ...serviceSettingsFrom(parsed),
    notifications: notificationSettingsFrom(parsed),
    webhooks: webhookSettingsFrom(parsed),
    port: parsed.PORT,
    host: parsed.HOST,
    bodyLimitBytes: parsed.BODY_LIMIT_BYTES,
    sse: {
      heartbeatMs: parsed.SSE_HEARTBEAT_MS,
      retryMs: parsed.SSE_RETRY_MS,
      maxBufferBytes: parsed.SSE_MAX_BUFFER_BYTES,
      resultInlineMaxBytes: parsed.EVENT_RESULT_INLINE_MAX_BYTES,
    },
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    auth: authConfigFrom(parsed),
    limits: limitsConfigFrom(parsed),
    dashboard: dashboardConfigFrom(parsed),
    killSwitchRefreshMs: parsed.KILL_SWITCH_REFRESH_MS,
    jobIdSecret: parsed.JOB_ID_SECRET,
    metricsEnabled: parsed.API_METRICS_ENABLED,
    push: pushSettingsFrom(parsed),
  };
}
