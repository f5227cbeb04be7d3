import type { ApiServer } from '@jobstream/api';
import type { MetricsService } from '@jobstream/metrics';
import type { WorkerService } from '@jobstream/worker';
import { http } from '../test-support/http';
import { freePort } from '../test-support/redis-server';
import { connectSse } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { alertsOf, enqueueDemo, startMetrics, waitFor } from './operations-helpers';

/** `# TYPE` declarations of a Prometheus text exposition: metric name to type. */
function declaredTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1] as string, match[2] as string);
  return types;
}

/** The Prometheus naming rules jobstream follows, checked on its own metrics (not the process_* defaults). */
function namingProblems(text: string): string[] {
  const problems: string[] = [];
  for (const [name, type] of declaredTypes(text)) {
    if (!name.startsWith('jobstream_')) continue;
    if (!/^jobstream_[a-z0-9_]+$/.test(name)) problems.push(`${name}: not snake_case`);
    if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name}: counter without _total`);
    if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: _total on a ${type}`);
    if (type === 'histogram' && !name.endsWith('_seconds')) problems.push(`${name}: histogram not in seconds`);
    if (/_(ms|milliseconds|minutes|hours|percent)(_|$)/.test(name)) problems.push(`${name}: not in base units`);
  }
  return problems;
}

describe('Prometheus endpoints', () => {
  let env: Record<string, string>;
  let api: (ApiServer & { url: string }) | undefined;
  let metrics: (MetricsService & { url: string; adminUrl: string }) | undefined;
  let worker: WorkerService | undefined;

  beforeEach(async () => {
    env = testEnv({ ALERT_EVAL_INTERVAL_MS: '200', WORKER_METRICS_PORT: String(await freePort()), WORKER_METRICS_HOST: '127.0.0.1' });
  });

  afterEach(async () => {
    await worker?.close();
    await metrics?.close();
    await api?.close();
    worker = metrics = api = undefined;
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('exposes every metric the operators were promised, named by the Prometheus conventions, on all three services', async () => {
    api = await startApi(env);
    worker = await startWorker(env);
    metrics = await startMetrics(env);
    const apiUrl = api.url;
    const job = await enqueueDemo(apiUrl, { durationMs: 300, steps: 2 });
    const stream = await connectSse(`${apiUrl}/api/jobs/${job.jobId}/events`);
    const open = await http('GET', `${apiUrl}/metrics`);
    expect(open.headers.get('content-type')).toContain('text/plain');
    expect(open.body).toContain('jobstream_sse_connections 1');
    await stream.ended;
    // Refusals, each counted under its stable code and route pattern.
    expect((await http('POST', `${apiUrl}/api/jobs`, { type: 'demo.work', payload: { durationMs: -1 } })).status).toBe(400);
    expect((await http('GET', `${apiUrl}/api/jobs/no-such-job`)).status).toBe(404);
    expect((await http('GET', `${apiUrl}/api/jobs`, undefined, { authorization: '' })).status).toBe(401);
    const metricsUrl = metrics.url;
    const adminUrl = metrics.adminUrl;
    await waitFor('the job to be accounted', async () => (await alertsOf(adminUrl))?.values.finishedInWindow === 1);

    const apiText: string = (await http('GET', `${apiUrl}/metrics`)).body;
    const workerText: string = (await http('GET', `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`)).body;
    const metricsText: string = (await http('GET', `${metricsUrl}/metrics`)).body;

    expect(apiText).toContain('jobstream_sse_connections 0');
    expect(apiText).toMatch(/^jobstream_sse_events_delivered_total [1-9]\d*$/m);
    expect(apiText).toMatch(/^jobstream_sse_delivery_lag_seconds_count [1-9]\d*$/m);
    // Route patterns, never raw paths: a job id in a label would make one series per job.
    expect(apiText).toContain('jobstream_http_requests_total{method="POST",route="/api/jobs",status="202"} 1');
    expect(apiText).toContain('jobstream_http_requests_total{method="GET",route="/api/jobs/:id/events",status="200"} 1');
    expect(apiText).not.toContain(job.jobId);
    // An error answer keeps its route's full pattern.
    expect(apiText).toContain('jobstream_http_requests_total{method="POST",route="/api/jobs",status="400"} 1');
    expect(apiText).toContain('jobstream_http_errors_total{route="/api/jobs",code="VALIDATION_FAILED"} 1');
    expect(apiText).toContain('jobstream_http_errors_total{route="/api/jobs/:id",code="JOB_NOT_FOUND"} 1');
    expect(apiText).toMatch(/^jobstream_http_errors_total\{route="[^"]*",code="AUTH_REQUIRED"\} 1$/m);

    expect(workerText).toContain('jobstream_worker_attempts_total{type="demo.work",outcome="completed"} 1');
    expect(workerText).toContain('jobstream_relay_leader 1');
    expect(workerText).toMatch(/^jobstream_relay_events_total [1-9]\d*$/m);

    for (const name of [
      'jobstream_queue_jobs',
      'jobstream_job_wait_seconds',
      'jobstream_job_processing_seconds',
      'jobstream_jobs_completed_total',
      'jobstream_jobs_failed_total',
      'jobstream_job_failure_ratio',
      'jobstream_workers',
      'jobstream_budget_spent_usd',
      'jobstream_budget_limit_usd',
      'jobstream_budget_warn_usd',
      'jobstream_kill_switch_enabled',
      'jobstream_alert_active',
    ]) {
      expect(declaredTypes(metricsText).has(name)).toBe(true);
    }
    for (const alert of ['queueDepthHigh', 'queueDepthCritical', 'failureRateHigh', 'circuitBreakerOpen', 'workerStalled', 'budgetExceeded']) {
      expect(metricsText).toContain(`jobstream_alert_active{alert="${alert}"} 0`);
    }
    expect(metricsText).toContain('jobstream_job_processing_seconds_count{type="demo.work"} 1');
    expect(metricsText).toContain('jobstream_job_wait_seconds_count{type="demo.work"} 1');
    expect(metricsText).toContain('jobstream_workers 1');
    expect(metricsText).toContain('jobstream_budget_limit_usd 100');
    expect(metricsText).toContain('jobstream_budget_warn_usd 80');

    expect([...namingProblems(apiText), ...namingProblems(workerText), ...namingProblems(metricsText)]).toEqual([]);
  });

  it('answers health, readiness and unknown routes on the metrics service', async () => {
    metrics = await startMetrics(env);
    expect((await http('GET', `${metrics.url}/healthz`)).body).toEqual({ status: 'ok' });
    expect((await http('GET', `${metrics.url}/readyz`)).body).toEqual({ status: 'ready' });
    const missing = await http('GET', `${metrics.url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    const post = await http('POST', `${metrics.url}/metrics`, {});
    expect(post.status).toBe(405);
  });

  it('keeps a worker running without /metrics when its port is taken', async () => {
    worker = await startWorker(env);
    const second = await startWorker(env);
    try {
      expect(worker.operations.metricsPort()).toBe(Number(env.WORKER_METRICS_PORT));
      expect(second.operations.metricsPort()).toBeUndefined();
    } finally {
      await second.close();
    }
  });
});
