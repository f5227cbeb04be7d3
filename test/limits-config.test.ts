import { loadConfig } from '@jobstream/api';
import { ConfigError } from '@jobstream/runtime';
import { loadConfig as loadWorkerConfig } from '@jobstream/worker';
import { TEST_JWT_SECRET } from '../test-support/auth';

const base = { JWT_SECRET: TEST_JWT_SECRET };

function problemsOf(env: Record<string, string>, load: (env: Record<string, string>) => unknown = loadConfig): string[] {
  try {
    load({ ...base, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('the api limits configuration', () => {
  it('has defaults that protect a service nobody configured: limits on, CORS closed', () => {
    expect(loadConfig(base).limits).toEqual({
      enqueue: { points: 120, windowS: 60 },
      streams: { maxPerUser: 20, maxPerProcess: 20_000, leaseTtlMs: 30_000 },
      quotas: { maxQueuedJobs: 100, maxStoredBytes: 50_000_000 },
      corsOrigins: [],
    });
  });

  it('reads every variable, 0 turning a limit off', () => {
    const config = loadConfig({
      ...base,
      RATE_LIMIT_ENQUEUE_POINTS: '0',
      RATE_LIMIT_ENQUEUE_WINDOW_S: '10',
      MAX_STREAMS_PER_USER: '0',
      MAX_STREAMS_PER_PROCESS: '500',
      STREAM_LEASE_TTL_MS: '5000',
    });
    expect(config.limits.enqueue).toEqual({ points: 0, windowS: 10 });
    expect(config.limits.streams).toEqual({ maxPerUser: 0, maxPerProcess: 500, leaseTtlMs: 5_000 });
    const quotas = loadConfig({ ...base, MAX_QUEUED_JOBS_PER_USER: '0', MAX_STORED_BYTES_PER_USER: '1000000' }).limits.quotas;
    expect(quotas).toEqual({ maxQueuedJobs: 0, maxStoredBytes: 1_000_000 });
  });

  it('takes CORS_ORIGINS as a comma list and writes each origin as a browser sends it', () => {
    const config = loadConfig({ ...base, CORS_ORIGINS: ' HTTPS://App.Example.com/ ,http://localhost:5173,https://app.example.com,https://x.io:443' });
    expect(config.limits.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173', 'https://x.io']);
  });

  it('names CORS_ORIGINS and the bad entry for a wildcard, a path or something that is no origin', () => {
    for (const bad of ['*', 'https://app.example.com/dashboard', 'app.example.com', 'ftp://files.example.com', 'https://user:pw@example.com']) {
      const problems = problemsOf({ CORS_ORIGINS: `https://ok.example.com,${bad}` });
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^CORS_ORIGINS: .*is not an origin`))]);
    }
  });

  it('refuses values out of range, naming each variable', () => {
    const problems = problemsOf({ RATE_LIMIT_ENQUEUE_POINTS: '-1', RATE_LIMIT_ENQUEUE_WINDOW_S: '0', STREAM_LEASE_TTL_MS: '10', MAX_STREAMS_PER_USER: 'many' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'MAX_STREAMS_PER_USER',
      'RATE_LIMIT_ENQUEUE_POINTS',
      'RATE_LIMIT_ENQUEUE_WINDOW_S',
      'STREAM_LEASE_TTL_MS',
    ]);
  });
});

describe('the per-user job quotas on the worker', () => {
  it('caps each user at 2 running jobs by default and keeps the counts of the api\'s two quotas, with the same defaults', () => {
    expect(loadWorkerConfig({}).quotas).toEqual({ maxActiveJobs: 2, maxQueuedJobs: 100, maxStoredBytes: 50_000_000 });
  });

  it('turns each quota off with 0', () => {
    const env = { MAX_ACTIVE_JOBS_PER_USER: '0', MAX_QUEUED_JOBS_PER_USER: '0', MAX_STORED_BYTES_PER_USER: '0' };
    expect(loadWorkerConfig(env).quotas).toEqual({ maxActiveJobs: 0, maxQueuedJobs: 0, maxStoredBytes: 0 });
  });

  it('refuses negative, fractional and non-numeric values, naming each variable, on the worker and on the api', () => {
    const bad = { MAX_ACTIVE_JOBS_PER_USER: '-1', MAX_QUEUED_JOBS_PER_USER: '2.5', MAX_STORED_BYTES_PER_USER: '50MB' };
    expect(problemsOf(bad, loadWorkerConfig).map((p) => p.split(':')[0]).sort()).toEqual([
      'MAX_ACTIVE_JOBS_PER_USER',
      'MAX_QUEUED_JOBS_PER_USER',
      'MAX_STORED_BYTES_PER_USER',
    ]);
    expect(problemsOf(bad).map((p) => p.split(':')[0]).sort()).toEqual(['MAX_QUEUED_JOBS_PER_USER', 'MAX_STORED_BYTES_PER_USER']);
  });
});
