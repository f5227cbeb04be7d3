import { alertNames, type AlertName, type AlertThresholds, type AlertValues } from '@jobstream/contracts';

/**
 * The alert conditions, as one pure function of the measured values and the thresholds.
 * Thresholds are exclusive ("more than 50 waiting"), as the first users were told.
 */
export function evaluateAlerts(values: AlertValues, t: AlertThresholds): Record<AlertName, boolean> {
  return {
    queueDepthHigh: values.queueDepth > t.queueDepthHigh,
    queueDepthCritical: values.queueDepth > t.queueDepthCritical,
    // Too few finished jobs say nothing about a rate: one failure of one job is not "100 % failing".
    failureRateHigh: values.finishedInWindow >= t.failureRateMinJobs && values.failureRate > t.failureRate,
    circuitBreakerOpen: values.circuitBreakersOpen > 0,
    workerStalled: values.workersStalled > 0,
    budgetExceeded: values.budgetLimit > 0 && values.budgetSpent >= values.budgetLimit,
    // An alert too, so that every view of the alerts (CLI, dashboard, Prometheus) shows refused jobs.
    killSwitchOn: values.killSwitchEnabled,
  };
}

/** The alerts whose state differs between two evaluations. */
export function alertTransitions(
  before: Record<AlertName, boolean> | undefined,
  after: Record<AlertName, boolean>,
): { alert: AlertName; active: boolean }[] {
  return alertNames
    .filter((name) => (before?.[name] ?? false) !== after[name])
    .map((name) => ({ alert: name, active: after[name] }));
}
