import { ConfigError } from '@jobstream/runtime';
import { loadConfig } from './config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('loadConfig accepted a bad environment');
}

describe('metrics loadConfig', () => {
  it('applies the promised defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(9102);
    expect(config.thresholds).toEqual({
      queueDepthHigh: 50,
      queueDepthCritical: 100,
      failureRate: 0.1,
      failureRateWindowMs: 300_000,
      failureRateMinJobs: 10,
      workerStallMs: 120_000,
      evaluationIntervalMs: 5_000,
    });
    expect(config.budget).toEqual({
      monthlyLimit: 100,
      warnRatio: 0.8,
      prices: { default: { promptPer1k: 0.002, completionPer1k: 0.002 }, byProvider: {} },
    });
    expect(config.sentry).toEqual({ dsn: undefined, environment: undefined });
  });

  it('lists every bad variable in one error', () => {
    const problems = problemsOf({
      METRICS_PORT: '70000',
      ALERT_EVAL_INTERVAL_MS: 'soon',
      ALERT_QUEUE_DEPTH_HIGH: '-1',
      ALERT_FAILURE_RATE: '10',
      ALERT_FAILURE_WINDOW_MS: '5',
      ALERT_FAILURE_MIN_JOBS: '0',
      ALERT_WORKER_STALL_MS: '1.5',
      BUDGET_MONTHLY_LIMIT: '0',
      BUDGET_WARN_RATIO: '1',
      BUDGET_PRICE_PER_1K_TOKENS: '-0.1',
      BUDGET_PRICES: '{not json',
      SENTRY_DSN: 'not a url',
    });
    const named = problems.map((p) => p.split(':')[0]);
    expect(named.sort()).toEqual(
      [
        'METRICS_PORT',
        'ALERT_EVAL_INTERVAL_MS',
        'ALERT_QUEUE_DEPTH_HIGH',
        'ALERT_FAILURE_RATE',
        'ALERT_FAILURE_WINDOW_MS',
        'ALERT_FAILURE_MIN_JOBS',
        'ALERT_WORKER_STALL_MS',
        'BUDGET_MONTHLY_LIMIT',
        'BUDGET_WARN_RATIO',
        'BUDGET_PRICE_PER_1K_TOKENS',
        'BUDGET_PRICES',
        'SENTRY_DSN',
      ].sort(),
    );
    expect(problems.find((p) => p.startsWith('METRICS_PORT'))).toContain('(got "70000")');
  });

  it('requires the critical queue depth to be above the high one', () => {
    expect(problemsOf({ ALERT_QUEUE_DEPTH_HIGH: '100', ALERT_QUEUE_DEPTH_CRITICAL: '100' })).toEqual([
      'ALERT_QUEUE_DEPTH_CRITICAL: must be greater than ALERT_QUEUE_DEPTH_HIGH (got "100")',
    ]);
  });

  it('reads a price table per provider, flat or split into prompt and completion', () => {
    const config = loadConfig({ BUDGET_PRICES: '{"openai":{"promptPer1k":0.00015,"completionPer1k":0.0006},"local":0}' });
    expect(config.budget.prices.byProvider).toEqual({
      openai: { promptPer1k: 0.00015, completionPer1k: 0.0006 },
      local: { promptPer1k: 0, completionPer1k: 0 },
    });
    expect(problemsOf({ BUDGET_PRICES: '{"openai":{"prompt":1}}' })[0]).toMatch(/^BUDGET_PRICES/);
  });

  it('treats an empty SENTRY_DSN as unset', () => {
    expect(loadConfig({ SENTRY_DSN: '' }).sentry.dsn).toBeUndefined();
  });
});
