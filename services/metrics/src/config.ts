import {
  budgetPricesVar,
  commonEnvShape,
  intVar,
  parseEnv,
  serviceSettingsFrom,
  type ServiceSettings,
  checkCommonEnv,
  type PriceTable,
} from '@jobstream/runtime';
import type { AlertThresholds } from '@jobstream/contracts';
import { z } from 'zod';

/** A decimal variable with a default and bounds (money, ratios). */
function numVar(defaultValue: number, min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return z.coerce.number().finite().min(min).max(max).default(defaultValue);
}

const metricsEnvSchema = z
  .object({
    ...commonEnvShape,
    // 9100 would be the obvious choice, but it is node_exporter's port on most hosts.
    METRICS_PORT: intVar(9102, 0, 65_535),
    HOST: z.string().min(1).default('0.0.0.0'),
    METRICS_ADMIN_PORT: intVar(9103, 0, 65_535),
    METRICS_ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
    SHUTDOWN_TIMEOUT_MS: intVar(10_000, 0),
    ALERT_EVAL_INTERVAL_MS: intVar(5_000, 50, 300_000),
    ALERT_QUEUE_DEPTH_HIGH: intVar(50, 0),
    ALERT_QUEUE_DEPTH_CRITICAL: intVar(100, 1),
    ALERT_FAILURE_RATE: numVar(0.1, 0, 1),
    ALERT_FAILURE_WINDOW_MS: intVar(300_000, 10_000, 86_400_000),
    ALERT_FAILURE_MIN_JOBS: intVar(10, 1),
    ALERT_WORKER_STALL_MS: intVar(120_000, 1_000),
    BUDGET_MONTHLY_LIMIT: numVar(100, 0.000001),
    BUDGET_WARN_RATIO: numVar(0.8, 0.01, 0.99),
    BUDGET_PRICE_PER_1K_TOKENS: numVar(0.002, 0),
    BUDGET_PRICES: budgetPricesVar(),
  })
  .superRefine((env, ctx) => {
    checkCommonEnv(env, ctx);
    if (env.ALERT_QUEUE_DEPTH_CRITICAL <= env.ALERT_QUEUE_DEPTH_HIGH) {
      ctx.addIssue({ code: 'custom', path: ['ALERT_QUEUE_DEPTH_CRITICAL'], message: 'must be greater than ALERT_QUEUE_DEPTH_HIGH' });
    }
  });

/** The host's settings (logging, Redis, queue, Sentry) and the metrics service's own. */
export interface MetricsConfig extends ServiceSettings {
  /** `/metrics`, `/healthz`, `/readyz`. Default 9102; 0 picks a free port. */
  port: number;
  /** Default 0.0.0.0 (shared with the api's `HOST`). */
  host: string;
  /**
   * The admin listener: `/api/metrics/alerts` (budget, spend, workers) besides the public routes.
   * Default 127.0.0.1:9103, reachable from the same host or pod only (`kubectl port-forward` works);
   * anyone else asks the api's `GET /api/metrics/alerts`, which needs the admin role.
   */
  admin: { port: number; host: string };
  /** How long SIGTERM waits for the current round to end. Default 10 s. */
  shutdownTimeoutMs: number;
  /** Every threshold and window of the alerts; the defaults are the ones the first users were promised. */
  thresholds: AlertThresholds;
  budget: {
    /** USD per calendar month (UTC). Default 100. Reaching it turns the kill-switch on. */
    monthlyLimit: number;
    /** Share of the limit at which a warning is logged and published. Default 0.8. */
    warnRatio: number;
    /** What token usage costs, per provider. Default: 0.002 USD per 1,000 tokens for every provider. */
    prices: PriceTable;
  };
}

/** Reads the metrics service's configuration; throws one error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MetricsConfig {
  const parsed = parseEnv('metrics', metricsEnvSchema, env);
  const flat = parsed.BUDGET_PRICE_PER_1K_TOKENS;
  return {
    ...serviceSettingsFrom(parsed),
    port: parsed.METRICS_PORT,
    host: parsed.HOST,
    admin: { port: parsed.METRICS_ADMIN_PORT, host: parsed.METRICS_ADMIN_HOST },
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    thresholds: {
      queueDepthHigh: parsed.ALERT_QUEUE_DEPTH_HIGH,
      queueDepthCritical: parsed.ALERT_QUEUE_DEPTH_CRITICAL,
      failureRate: parsed.ALERT_FAILURE_RATE,
      failureRateWindowMs: parsed.ALERT_FAILURE_WINDOW_MS,
      failureRateMinJobs: parsed.ALERT_FAILURE_MIN_JOBS,
      workerStallMs: parsed.ALERT_WORKER_STALL_MS,
      evaluationIntervalMs: parsed.ALERT_EVAL_INTERVAL_MS,
    },
    budget: {
      monthlyLimit: parsed.BUDGET_MONTHLY_LIMIT,
      warnRatio: parsed.BUDGET_WARN_RATIO,
      prices: { default: { promptPer1k: flat, completionPer1k: flat }, byProvider: parsed.BUDGET_PRICES },
    },
  };
}
