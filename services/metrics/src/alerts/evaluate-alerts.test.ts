import type { AlertThresholds, AlertValues } from '@jobstream/contracts';
import { alertTransitions, evaluateAlerts } from './evaluate-alerts';

const thresholds: AlertThresholds = {
  queueDepthHigh: 50,
  queueDepthCritical: 100,
  failureRate: 0.1,
  failureRateWindowMs: 300_000,
  failureRateMinJobs: 10,
  workerStallMs: 120_000,
  evaluationIntervalMs: 5_000,
};
const calm: AlertValues = {
  queueDepth: 0,
  active: 0,
  delayed: 0,
  failureRate: 0,
  finishedInWindow: 0,
  failedInWindow: 0,
  workersLive: 1,
  workersStalled: 0,
  circuitBreakersOpen: 0,
  budgetSpent: 0,
  budgetLimit: 100,
  killSwitchEnabled: false,
};
const on = (values: Partial<AlertValues>) =>
  Object.entries(evaluateAlerts({ ...calm, ...values }, thresholds))
    .filter(([, active]) => active)
    .map(([name]) => name);

describe('evaluateAlerts', () => {
  it('raises nothing on a calm system', () => {
    expect(on({})).toEqual([]);
  });

  it('treats the depth thresholds as "more than"', () => {
    expect(on({ queueDepth: 50 })).toEqual([]);
    expect(on({ queueDepth: 51 })).toEqual(['queueDepthHigh']);
    expect(on({ queueDepth: 100 })).toEqual(['queueDepthHigh']);
    expect(on({ queueDepth: 101 })).toEqual(['queueDepthHigh', 'queueDepthCritical']);
  });

  it('raises failureRateHigh only above the rate and with enough finished jobs to mean something', () => {
    expect(on({ failureRate: 1, finishedInWindow: 9, failedInWindow: 9 })).toEqual([]);
    expect(on({ failureRate: 0.1, finishedInWindow: 10, failedInWindow: 1 })).toEqual([]);
    expect(on({ failureRate: 0.2, finishedInWindow: 10, failedInWindow: 2 })).toEqual(['failureRateHigh']);
  });

  it('raises the breaker, stall and budget alerts from their counts', () => {
    expect(on({ circuitBreakersOpen: 1 })).toEqual(['circuitBreakerOpen']);
    expect(on({ workersStalled: 2 })).toEqual(['workerStalled']);
    expect(on({ budgetSpent: 99.99 })).toEqual([]);
    expect(on({ budgetSpent: 100 })).toEqual(['budgetExceeded']);
  });

  it('raises killSwitchOn while the kill-switch is on, whoever turned it on', () => {
    expect(on({ killSwitchEnabled: true })).toEqual(['killSwitchOn']);
    expect(on({ budgetSpent: 100, killSwitchEnabled: true })).toEqual(['budgetExceeded', 'killSwitchOn']);
  });

  it('lists what changed between two evaluations', () => {
    const before = evaluateAlerts({ ...calm, queueDepth: 60 }, thresholds);
    const after = evaluateAlerts({ ...calm, queueDepth: 10, workersStalled: 1 }, thresholds);
    expect(alertTransitions(before, after)).toEqual([
      { alert: 'queueDepthHigh', active: false },
      { alert: 'workerStalled', active: true },
    ]);
    expect(alertTransitions(undefined, before)).toEqual([{ alert: 'queueDepthHigh', active: true }]);
  });
});
