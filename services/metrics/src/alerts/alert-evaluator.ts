import {
  alertNames,
  alertsSnapshotSchema,
  type AlertName,
  type AlertsSnapshot,
  type AlertThresholds,
  type AlertValues,
} from '@jobstream/contracts';
import { publishSystemEvent, readKillSwitch, type JobstreamKeys, type Logger, type RedisClient } from '@jobstream/runtime';
import type { Queue } from 'bullmq';
import type { BudgetKeeper } from '../budget/budget-keeper.js';
import { readOutcomeWindow } from '../feed/outcome-window.js';
import type { MetricsRegistry } from '../prom/metrics-registry.js';
import { alertTransitions, evaluateAlerts } from './evaluate-alerts.js';
import { readWorkerHealth } from './worker-health.js';

export interface AlertEvaluatorOptions {
  redis: RedisClient;
  queue: Queue;
  keys: JobstreamKeys;
  thresholds: AlertThresholds;
  budget: BudgetKeeper;
  metrics: MetricsRegistry;
  logger: Logger;
}

const COUNTED_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'waiting-children'] as const;

/**
 * Evaluates the alerts every interval from what Redis holds, stores the answer for every api
 * replica, and announces each alert that starts or resolves (log and system notification).
 * The answer is swapped in with `SET ... GET`, so when two metrics services run, exactly one of
 * them sees each transition and it is announced once.
 */
export class AlertEvaluator {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly options: AlertEvaluatorOptions) {
    this.log = options.logger.child({ component: 'alerts' });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
  }

  /** A timeout chain rather than setInterval: a slow round (Redis hiccup) never overlaps the next. */
  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.round = this.evaluate()
        .then(() => undefined)
        .catch((err: unknown) => {
          this.options.metrics.evaluations.inc({ result: 'error' });
          this.log.warn({ err }, 'alert evaluation failed; retrying next interval');
        })
        .finally(() => {
          if (!this.stopped) this.schedule(this.options.thresholds.evaluationIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One evaluation: measure, decide, store, announce. */
  async evaluate(now: number = Date.now()): Promise<AlertsSnapshot> {
    const { redis, keys, thresholds, metrics, queue } = this.options;
    const [counts, window, workers, budget, killSwitch] = await Promise.all([
      queue.getJobCounts(...COUNTED_STATES),
      readOutcomeWindow(redis, keys, thresholds.failureRateWindowMs, now),
      readWorkerHealth({ redis, keys, activeListKey: queue.keys.active ?? `${queue.qualifiedName}:active`, stallMs: thresholds.workerStallMs, logger: this.log }, now),
      this.options.budget.check(now),
      readKillSwitch(redis, keys),
    ]);
    const finished = window.completed + window.failed;
    const values: AlertValues = {
      queueDepth: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failureRate: finished === 0 ? 0 : window.failed / finished,
      finishedInWindow: finished,
      failedInWindow: window.failed,
      workersLive: workers.live,
      workersStalled: workers.stalled,
      circuitBreakersOpen: workers.breakersOpen,
      budgetSpent: Math.round(budget.spent * 1e6) / 1e6,
      budgetLimit: budget.limit,
      killSwitchEnabled: killSwitch.enabled,
    };
    const alerts = evaluateAlerts(values, thresholds);
    const snapshot: AlertsSnapshot = {
      alerts,
      alertsActive: alertNames.filter((name) => alerts[name]).length,
      values,
      thresholds,
      evaluatedAt: new Date(now).toISOString(),
    };

    const previousJson = (await redis.set(keys.alerts, JSON.stringify(snapshot), 'GET')) as string | null;
    const previous = parsePrevious(previousJson);
    for (const { alert, active } of alertTransitions(previous, alerts)) {
      await this.announce(alert, active, values, workers.stalledWorkers);
    }

    for (const [state, count] of Object.entries(counts)) metrics.queueJobs.set({ queue: queue.name, state }, count);
    metrics.failureRatio.set(values.failureRate);
    metrics.windowJobs.set({ outcome: 'completed' }, window.completed);
    metrics.windowJobs.set({ outcome: 'failed' }, window.failed);
    metrics.workers.set(workers.live);
    metrics.workersStalled.set(workers.stalled);
    metrics.breakersOpen.set(workers.breakersOpen);
    metrics.budgetSpent.set(values.budgetSpent);
    metrics.budgetLimit.set(values.budgetLimit);
    metrics.budgetWarnAt.set(budget.warnAt);
    metrics.killSwitch.set(killSwitch.enabled ? 1 : 0);
    for (const name of alertNames) metrics.alertActive.set({ alert: name }, alerts[name] ? 1 : 0);
    metrics.evaluations.inc({ result: 'ok' });
    metrics.lastEvaluation.set(now / 1_000);
    return snapshot;
  }

  private async announce(alert: AlertName, active: boolean, values: AlertValues, stalledWorkers: string[]): Promise<void> {
    const context = { alert, values, ...(alert === 'workerStalled' && active ? { stalledWorkers } : {}) };
    if (active) this.log.warn(context, `alert started: ${alert}`);
    else this.log.info(context, `alert resolved: ${alert}`);
    await publishSystemEvent(this.options.redis, this.options.keys, active ? 'alert_started' : 'alert_resolved', {
      timestamp: new Date().toISOString(),
      alert,
      values,
    });
  }
}

/** The stored answer before this one; an unreadable one (older format) counts as "no alert was on". */
function parsePrevious(json: string | null): Record<AlertName, boolean> | undefined {
  if (!json) return undefined;
  const parsed = alertsSnapshotSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data.alerts : undefined;
}
