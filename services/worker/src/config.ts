import {
  boolVar,
  HISTORY_PACK_MAX_BYTES,
  commonEnvShape,
  intVar,
  notificationEnvShape,
  notificationSettingsFrom,
  parseEnv,
  serviceSettingsFrom,
  type ServiceSettings,
  checkCommonEnv,
  type NotificationSettings,
  userQuotaEnvShape,
  userQuotaSettingsFrom,
  webhookEnvShape,
  webhookSettingsFrom,
  type WebhookSettings,
  checkPushEnv,
  checkFcmDeliveryEnv,
  pushEnvShape,
  pushSettingsFrom,
  type PushSettings,
} from '@jobstream/runtime';
import { EVENT_RESULT_INLINE_MAX_BYTES } from '@jobstream/contracts';
import { z } from 'zod';
import type { WorkerQuotaSettings } from './limits/job-quotas.js';

const workerEnvSchema = z
  .object({
    ...commonEnvShape,
    ...notificationEnvShape,
    ...userQuotaEnvShape,
    ...webhookEnvShape,
    WEBHOOKS_ENABLED: boolVar(true),
    WEBHOOK_CONCURRENCY: intVar(10, 1, 1_000),
    WEBHOOK_TIMEOUT_MS: intVar(10_000, 100, 120_000),
    WEBHOOK_RESPONSE_MAX_BYTES: intVar(65_536, 0, 10_485_760),
    WEBHOOK_BACKOFF_BASE_MS: intVar(60_000, 1),
    WEBHOOK_BACKOFF_MAX_MS: intVar(21_600_000, 1),
    WEBHOOK_DISABLE_AFTER_FAILURES: intVar(5, 0, 1_000),
    WORKER_CONCURRENCY: intVar(5, 1, 1_000),
    MAX_ACTIVE_JOBS_PER_USER: intVar(2, 0, 1_000_000),
    WORKER_SHUTDOWN_TIMEOUT_MS: intVar(30_000, 0),
    WORKER_LOCK_DURATION_MS: intVar(30_000, 1_000),
    WORKER_STALLED_INTERVAL_MS: intVar(30_000, 500),
    WORKER_MAX_STALLED_COUNT: intVar(1, 0, 100),
    RELAY_ENABLED: boolVar(true),
    RELAY_LOCK_TTL_MS: intVar(5_000, 1_000),
    RELAY_BATCH_SIZE: intVar(500, 1, 10_000),
    RELAY_HISTORY_PACK_MAX_BYTES: intVar(HISTORY_PACK_MAX_BYTES, 0, 65_536),
    EVENT_RESULT_INLINE_MAX_BYTES: intVar(EVENT_RESULT_INLINE_MAX_BYTES, 0),
    FLASHCARDS_PROVIDER: z.enum(['local', 'openai']).default('local'),
    OPENAI_BASE_URL: z.string().url().optional(),
    OPENAI_API_KEY: z.string().min(1).optional(),
    OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
    PROVIDER_TIMEOUT_MS: intVar(30_000, 100),
    WORKER_METRICS_PORT: intVar(9101, 0, 65_535),
    WORKER_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
    WORKER_HEARTBEAT_MS: intVar(5_000, 100, 60_000),
    CIRCUIT_BREAKER_ERROR_PERCENT: intVar(50, 1, 100),
    CIRCUIT_BREAKER_VOLUME: intVar(5, 1),
    CIRCUIT_BREAKER_RESET_MS: intVar(30_000, 100),
    CIRCUIT_BREAKER_WINDOW_MS: intVar(10_000, 1_000),
    ...pushEnvShape,
  })
  .superRefine((env, ctx) => {
    checkCommonEnv(env, ctx);
    if (env.WEBHOOK_BACKOFF_MAX_MS < env.WEBHOOK_BACKOFF_BASE_MS) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_BACKOFF_MAX_MS'], message: 'must not be less than WEBHOOK_BACKOFF_BASE_MS' });
    }
    checkPushEnv(env, ctx);
    checkFcmDeliveryEnv(env, ctx);
    if (env.FLASHCARDS_PROVIDER === 'openai') {
      for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY'] as const) {
        if (!env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'is required when FLASHCARDS_PROVIDER=openai' });
      }
    }
  });

/** The host's settings (logging, Redis, queue, Sentry) and the worker service's own. */
export interface WorkerConfig extends ServiceSettings {
  /** The relay writes each job event to its owner's channel, capped and expiring by these. */
  notifications: NotificationSettings;
  /** Jobs one process runs at once. Default 5. */
  concurrency: number;
  /**
   * Per-user quotas: the cap on running jobs the workers enforce (MAX_ACTIVE_JOBS_PER_USER, default
   * 2; a dead worker's slots lapse after `lockDurationMs`), and the api's two whose counts the
   * worker keeps (MAX_QUEUED_JOBS_PER_USER, MAX_STORED_BYTES_PER_USER: set them as on the api). 0: off.
   */
  quotas: WorkerQuotaSettings;
  /** How long SIGTERM waits for active jobs before giving up on them. Default 30 s. */
  shutdownTimeoutMs: number;
  /** BullMQ job lock; a job whose worker stops renewing it is stalled after this. Default 30 s. */
  lockDurationMs: number;
  /** How often stalled jobs are looked for. Default 30 s. */
  stalledIntervalMs: number;
  /** Stalls allowed before the job fails. Default 1. */
  maxStalledCount: number;
  relay: {
    /** Whether this process takes part in relaying events (one process relays at a time). Default true. */
    enabled: boolean;
    /** Leadership lease; a dead relay is replaced within about this long. Default 5 s. */
    lockTtlMs: number;
    /** Events read per round. Default 500. */
    batchSize: number;
    /** `completed` events leave out results of more JSON bytes than this (`resultOmitted`). Default 16 KiB; 0: never. */
    resultInlineMaxBytes: number;
    /** A finished job's history of at most this many bytes is packed into its job hash (see history-lua.ts). Default 8 KiB; 0: never. */
    historyPackMaxBytes: number;
  };
  flashcards: {
    provider: 'local' | 'openai';
    openai?: { baseUrl: string; apiKey: string; model: string; timeoutMs: number };
  };
  /** `GET /metrics`: port (default 9101; 0 turns it off) and host (default 0.0.0.0). */
  metrics: { port: number; host: string };
  /** How often the worker writes its heartbeat (active jobs, breaker state). Default 5 s. */
  heartbeatMs: number;
  /** The flashcards provider's circuit breaker. */
  breaker: {
    /** Failed share (%) of provider calls in the window that opens it. Default 50. */
    errorThresholdPercentage: number;
    /** Calls in the window before it may open. Default 5. */
    volumeThreshold: number;
    /** How long it stays open before a trial call. Default 30 s. */
    resetTimeoutMs: number;
    /** The rolling window. Default 10 s. */
    rollingWindowMs: number;
  };
  /** Webhook deliveries: the shared settings (set them as on the api) and the worker's own. */
  webhooks: WebhookSettings & {
    /** Whether this process dispatches (one at a time, by lease) and sends deliveries. Default true. */
    enabled: boolean;
    /** Deliveries one process sends at once. Default 10. */
    concurrency: number;
    /** One attempt, answer included. Default 10 s. */
    timeoutMs: number;
    /** Bytes of a receiver's answer read at most. Default 64 KiB. */
    responseMaxBytes: number;
    /** The first retry's delay; each next one doubles, with jitter. Default 60 s. */
    backoffBaseMs: number;
    /** The longest delay between two attempts. Default 6 hours. */
    backoffMaxMs: number;
    /** Dead deliveries in a row that turn an endpoint off and tell its owner. Default 5; 0: never. */
    disableAfterFailures: number;
  };
  /** Push delivery: on with the VAPID keys; the dispatcher runs in one worker process at a time, the sender in all. */
  push: PushSettings;
}

/** Reads the worker's configuration from the environment; throws one error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = parseEnv('worker', workerEnvSchema, env);
  return {
    ...serviceSettingsFrom(parsed),
    notifications: notificationSettingsFrom(parsed),
    concurrency: parsed.WORKER_CONCURRENCY,
    quotas: { maxActiveJobs: parsed.MAX_ACTIVE_JOBS_PER_USER, ...userQuotaSettingsFrom(parsed) },
    shutdownTimeoutMs: parsed.WORKER_SHUTDOWN_TIMEOUT_MS,
    lockDurationMs: parsed.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: parsed.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: parsed.WORKER_MAX_STALLED_COUNT,
    relay: {
      enabled: parsed.RELAY_ENABLED,
      lockTtlMs: parsed.RELAY_LOCK_TTL_MS,
      batchSize: parsed.RELAY_BATCH_SIZE,
      resultInlineMaxBytes: parsed.EVENT_RESULT_INLINE_MAX_BYTES,
      historyPackMaxBytes: parsed.RELAY_HISTORY_PACK_MAX_BYTES,
    },
    flashcards: {
      provider: parsed.FLASHCARDS_PROVIDER,
      ...(parsed.OPENAI_BASE_URL && parsed.OPENAI_API_KEY
        ? {
            openai: {
              baseUrl: parsed.OPENAI_BASE_URL,
              apiKey: parsed.OPENAI_API_KEY,
              model: parsed.OPENAI_MODEL,
              timeoutMs: parsed.PROVIDER_TIMEOUT_MS,
            },
          }
        : {}),
    },
    metrics: { port: parsed.WORKER_METRICS_PORT, host: parsed.WORKER_METRICS_HOST },
    heartbeatMs: parsed.WORKER_HEARTBEAT_MS,
    breaker: {
      errorThresholdPercentage: parsed.CIRCUIT_BREAKER_ERROR_PERCENT,
      volumeThreshold: parsed.CIRCUIT_BREAKER_VOLUME,
      resetTimeoutMs: parsed.CIRCUIT_BREAKER_RESET_MS,
      rollingWindowMs: parsed.CIRCUIT_BREAKER_WINDOW_MS,
    },
    webhooks: {
      ...webhookSettingsFrom(parsed),
      enabled: parsed.WEBHOOKS_ENABLED,
      concurrency: parsed.WEBHOOK_CONCURRENCY,
      timeoutMs: parsed.WEBHOOK_TIMEOUT_MS,
      responseMaxBytes: parsed.WEBHOOK_RESPONSE_MAX_BYTES,
      backoffBaseMs: parsed.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: parsed.WEBHOOK_BACKOFF_MAX_MS,
      disableAfterFailures: parsed.WEBHOOK_DISABLE_AFTER_FAILURES,
    },
    push: pushSettingsFrom(parsed),
  };
}
