import { loadConfig as loadApiConfig } from '@jobstream/api';
import { ConfigError } from '@jobstream/runtime';
import { loadConfig as loadWorkerConfig } from '@jobstream/worker';

function problemNames(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.split(':')[0] as string).sort();
    throw err;
  }
  throw new Error('accepted a bad environment');
}

const SECRET = 'a-secret-of-at-least-thirty-two-characters';

describe('operations variables of the api and the worker', () => {
  it('defaults to a 250 ms kill-switch refresh, metrics on, and no Sentry', () => {
    expect(loadApiConfig({ JWT_SECRET: SECRET })).toMatchObject({ killSwitchRefreshMs: 250, metricsEnabled: true, sentry: {} });
    expect(loadWorkerConfig({})).toMatchObject({
      metrics: { port: 9101, host: '0.0.0.0' },
      heartbeatMs: 5_000,
      breaker: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 30_000, rollingWindowMs: 10_000 },
      sentry: {},
    });
  });

  it('lists every bad operations variable of the api', () => {
    expect(
      problemNames(() => loadApiConfig({ JWT_SECRET: 'short', KILL_SWITCH_REFRESH_MS: '2000', API_METRICS_ENABLED: 'maybe', SENTRY_DSN: 'x' })),
    ).toEqual(['API_METRICS_ENABLED', 'JWT_SECRET', 'KILL_SWITCH_REFRESH_MS', 'SENTRY_DSN']);
  });

  it('lists every bad operations variable of the worker', () => {
    expect(
      problemNames(() =>
        loadWorkerConfig({
          WORKER_METRICS_PORT: '-1',
          WORKER_HEARTBEAT_MS: '10',
          CIRCUIT_BREAKER_ERROR_PERCENT: '150',
          CIRCUIT_BREAKER_VOLUME: '0',
          CIRCUIT_BREAKER_RESET_MS: 'later',
          CIRCUIT_BREAKER_WINDOW_MS: '5',
          SENTRY_DSN: 'nope',
        }),
      ),
    ).toEqual([
      'CIRCUIT_BREAKER_ERROR_PERCENT',
      'CIRCUIT_BREAKER_RESET_MS',
      'CIRCUIT_BREAKER_VOLUME',
      'CIRCUIT_BREAKER_WINDOW_MS',
      'SENTRY_DSN',
      'WORKER_HEARTBEAT_MS',
      'WORKER_METRICS_PORT',
    ]);
  });
});
