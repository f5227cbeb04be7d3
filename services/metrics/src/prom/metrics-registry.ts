import { alertNames } from '@jobstream/contracts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds: from sub-second jobs to the 10-minute `demo.work` maximum. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The metrics service's Prometheus metrics, on a registry of its own (not prom-client's global
 * one) so that several services can run in one process, as the integration tests do.
 * Names follow the Prometheus conventions: `jobstream_` prefix, base units, `_total` on counters.
 */
export function createMetricsRegistry() {
  const registry = new Registry();
  // Unprefixed process_* and nodejs_* names: the standard ones dashboards already know; the `job` label tells services apart.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics = {
    registry,
    queueJobs: new Gauge({ name: 'jobstream_queue_jobs', help: 'Jobs in the queue by state.', labelNames: ['queue', 'state'], registers }),
    waitSeconds: new Histogram({
      name: 'jobstream_job_wait_seconds',
      help: 'Time a job waited for a worker before an attempt started, by job type.',
      labelNames: ['type'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    processingSeconds: new Histogram({
      name: 'jobstream_job_processing_seconds',
      help: 'Run time of the successful attempt, by job type.',
      labelNames: ['type'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    completed: new Counter({ name: 'jobstream_jobs_completed_total', help: 'Jobs that completed, by job type.', labelNames: ['type'], registers }),
    failed: new Counter({ name: 'jobstream_jobs_failed_total', help: 'Jobs that failed for good (no retry left), by job type.', labelNames: ['type'], registers }),
    failureRatio: new Gauge({ name: 'jobstream_job_failure_ratio', help: 'Failed share of the jobs that finished within the alert window (0..1).', registers }),
    windowJobs: new Gauge({ name: 'jobstream_alert_window_jobs', help: 'Jobs that finished within the alert window, by outcome.', labelNames: ['outcome'], registers }),
    workers: new Gauge({ name: 'jobstream_workers', help: 'Worker processes with a recent heartbeat.', registers }),
    workersStalled: new Gauge({ name: 'jobstream_workers_stalled', help: 'Workers holding an active job without heartbeat or progress past the limit.', registers }),
    breakersOpen: new Gauge({ name: 'jobstream_circuit_breakers_open', help: 'Live workers whose provider circuit breaker is open or half-open (not yet recovered).', registers }),
    budgetSpent: new Gauge({ name: 'jobstream_budget_spent_usd', help: "This calendar month's (UTC) spend in US dollars.", registers }),
    budgetLimit: new Gauge({ name: 'jobstream_budget_limit_usd', help: 'The monthly budget in US dollars.', registers }),
    budgetWarnAt: new Gauge({
      name: 'jobstream_budget_warn_usd',
      help: 'The spend in US dollars at which the budget warning goes out (the monthly limit times BUDGET_WARN_RATIO).',
      registers,
    }),
    killSwitch: new Gauge({ name: 'jobstream_kill_switch_enabled', help: '1 while the kill-switch refuses new jobs, else 0.', registers }),
    alertActive: new Gauge({ name: 'jobstream_alert_active', help: '1 while the alert holds, else 0.', labelNames: ['alert'], registers }),
    evaluations: new Counter({ name: 'jobstream_alert_evaluations_total', help: 'Alert evaluations, by result.', labelNames: ['result'], registers }),
    lastEvaluation: new Gauge({ name: 'jobstream_alert_last_evaluation_timestamp_seconds', help: 'When the alerts were last evaluated (Unix time).', registers }),
    feedEvents: new Counter({ name: 'jobstream_metrics_feed_events_total', help: 'Lifecycle events accounted for from the live feed.', registers }),
    charges: new Counter({ name: 'jobstream_budget_charges_total', help: 'Jobs charged to the budget.', registers }),
  };
  // Every alert has a series from the start, so `jobstream_alert_active == 0` is visible rather than absent.
  for (const alert of alertNames) metrics.alertActive.set({ alert }, 0);
  for (const outcome of ['completed', 'failed']) metrics.windowJobs.set({ outcome }, 0);
  return metrics;
}

export type MetricsRegistry = ReturnType<typeof createMetricsRegistry>;
