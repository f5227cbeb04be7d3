import type { ApiServer } from '@jobstream/api';
import type { MetricsService } from '@jobstream/metrics';
import type { WorkerService } from '@jobstream/worker';
import type { Redis } from 'ioredis';
import { http } from '../test-support/http';
import { cleanupPrefix, spawnService, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { alertsOf, enqueueDemo, startMetrics, systemEvents, testRedis, waitFor } from './operations-helpers';
import { authHeaders } from '../test-support/auth';

const INTERVAL_MS = 250;

describe('alerts from the metrics service', () => {
  let env: Record<string, string>;
  let api: (ApiServer & { url: string }) | undefined;
  let metrics: (MetricsService & { url: string; adminUrl: string }) | undefined;
  let worker: WorkerService | undefined;
  let redis: Redis;

  beforeEach(() => {
    env = testEnv({ ALERT_EVAL_INTERVAL_MS: String(INTERVAL_MS), WORKER_METRICS_PORT: '0' });
    redis = testRedis();
  });

  afterEach(async () => {
    await worker?.close();
    await metrics?.close();
    await api?.close();
    worker = metrics = api = undefined;
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  it('raises queueDepthHigh and then queueDepthCritical within one evaluation interval of a flood, and resolves both once drained', async () => {
    api = await startApi(env);
    metrics = await startMetrics(env);
    const apiUrl = api.url;
    await waitFor('a first evaluation', () => alertsOf(apiUrl));

    const flood = async (count: number) => {
      const results = await Promise.all(Array.from({ length: count }, () => enqueueDemo(apiUrl, { durationMs: 0 })));
      expect(results.every((r) => r.status === 202)).toBe(true);
    };
    await flood(51);
    let flooded = Date.now();
    const high = await waitFor('queueDepthHigh', async () => (await alertsOf(apiUrl))?.alerts.queueDepthHigh && Date.now() - flooded, 5_000, 5);
    const afterHigh = await alertsOf(apiUrl);
    expect(afterHigh.alerts).toMatchObject({ queueDepthHigh: true, queueDepthCritical: false });
    expect(afterHigh.values.queueDepth).toBe(51);

    await flood(50);
    flooded = Date.now();
    const critical = await waitFor('queueDepthCritical', async () => (await alertsOf(apiUrl))?.alerts.queueDepthCritical && Date.now() - flooded, 5_000, 5);
    // One interval plus the time an evaluation and this poll take (a few ms against a local Redis;
    // the margin covers a loaded CI machine).
    if (process.env.JOBSTREAM_REPORT) process.stderr.write(`queueDepthHigh after ${high} ms, queueDepthCritical after ${critical} ms\n`);
    expect(high).toBeLessThanOrEqual(INTERVAL_MS + 300);
    expect(critical).toBeLessThanOrEqual(INTERVAL_MS + 300);

    const fromApi = await alertsOf(apiUrl);
    const fromMetrics = await alertsOf(metrics.adminUrl);
    expect(fromMetrics).toEqual(fromApi);
    expect(fromApi).toMatchObject({ alerts: { queueDepthHigh: true, queueDepthCritical: true }, alertsActive: 2, stale: false });
    expect(fromApi.thresholds).toMatchObject({ queueDepthHigh: 50, queueDepthCritical: 100, failureRate: 0.1, failureRateWindowMs: 300_000 });
    const scrape = await http('GET', `${metrics.url}/metrics`);
    expect(scrape.body).toContain('jobstream_alert_active{alert="queueDepthCritical"} 1');
    expect(scrape.body).toMatch(/jobstream_queue_jobs\{queue="jobs",state="waiting"\} 101/);

    worker = await startWorker(env);
    const adminUrl = metrics.adminUrl;
    await waitFor('both depth alerts to resolve', async () => {
      const a = await alertsOf(adminUrl);
      return a && !a.alerts.queueDepthHigh && !a.alerts.queueDepthCritical;
    }, 30_000);
    // The evaluation's state and its system events are separate writes: wait for the events too.
    const alertNames = async () =>
      (await systemEvents(redis, env)).filter((e) => e.event === 'alert_started' || e.event === 'alert_resolved').map((e) => `${e.event}:${(e.data as { alert: string }).alert}`);
    await waitFor('both resolutions in the system stream', async () => (await alertNames()).length >= 4, 10_000);
    const names = await alertNames();
    expect(names.slice(0, 2)).toEqual(['alert_started:queueDepthHigh', 'alert_started:queueDepthCritical']);
    // While draining, the evaluations may see both resolve at once or critical first: either order is right.
    expect(names.slice(2).sort()).toEqual(['alert_resolved:queueDepthCritical', 'alert_resolved:queueDepthHigh']);
  });

  it('raises killSwitchOn within one evaluation interval of an admin turning the switch on, and resolves it when turned off', async () => {
    api = await startApi(env);
    metrics = await startMetrics(env);
    const apiUrl = api.url;
    const admin = await authHeaders('ops', ['admin']);
    expect((await waitFor('a first evaluation', () => alertsOf(apiUrl))).alerts.killSwitchOn).toBe(false);

    const on = await http('POST', `${apiUrl}/api/admin/budget/kill-switch`, { enabled: true, reason: 'provider incident' }, admin);
    expect(on.status).toBe(200);
    const switched = Date.now();
    const raised = await waitFor('killSwitchOn', async () => (await alertsOf(apiUrl))?.alerts.killSwitchOn && Date.now() - switched, 5_000, 5);
    if (process.env.JOBSTREAM_REPORT) process.stderr.write(`killSwitchOn after ${raised} ms\n`);
    expect(raised).toBeLessThanOrEqual(INTERVAL_MS + 300);
    expect(await alertsOf(apiUrl)).toMatchObject({ alerts: { killSwitchOn: true }, alertsActive: 1, values: { killSwitchEnabled: true } });
    const scrape = await http('GET', `${metrics.url}/metrics`);
    expect(scrape.body).toContain('jobstream_alert_active{alert="killSwitchOn"} 1');

    const off = await http('POST', `${apiUrl}/api/admin/budget/kill-switch`, { enabled: false }, admin);
    expect(off.status).toBe(200);
    const switchedOff = Date.now();
    const resolved = await waitFor('killSwitchOn to resolve', async () => (await alertsOf(apiUrl))?.alerts.killSwitchOn === false && Date.now() - switchedOff, 5_000, 5);
    expect(resolved).toBeLessThanOrEqual(INTERVAL_MS + 300);
    const names = (await systemEvents(redis, env))
      .filter((e) => e.event === 'alert_started' || e.event === 'alert_resolved')
      .map((e) => `${e.event}:${(e.data as { alert: string }).alert}`);
    expect(names).toEqual(['alert_started:killSwitchOn', 'alert_resolved:killSwitchOn']);
  });

  it('raises failureRateHigh when more than the threshold of the finished jobs failed in the window', async () => {
    env.ALERT_FAILURE_MIN_JOBS = '4';
    api = await startApi(env);
    worker = await startWorker(env);
    metrics = await startMetrics(env);
    const apiUrl = api.url;
    for (const failAttempts of [5, 5, 0, 0]) expect((await enqueueDemo(apiUrl, { durationMs: 0, failAttempts })).status).toBe(202);

    const alerts = await waitFor('failureRateHigh', async () => {
      const a = await alertsOf(apiUrl);
      return a?.alerts.failureRateHigh ? a : undefined;
    }, 20_000);
    expect(alerts.values).toMatchObject({ finishedInWindow: 4, failedInWindow: 2, failureRate: 0.5 });
    const started = (await systemEvents(redis, env)).find((e) => e.event === 'alert_started');
    expect(started?.data).toMatchObject({ alert: 'failureRateHigh', values: { failedInWindow: 2 } });
    const scrape = await http('GET', `${metrics.url}/metrics`);
    expect(scrape.body).toContain('jobstream_job_failure_ratio 0.5');
    expect(scrape.body).toContain('jobstream_jobs_failed_total{type="demo.work"} 2');
    expect(scrape.body).toContain('jobstream_jobs_completed_total{type="demo.work"} 2');
  });

  it('does not count a failed attempt that will be retried as a failed job', async () => {
    env.ALERT_FAILURE_MIN_JOBS = '1';
    api = await startApi(env);
    worker = await startWorker(env);
    metrics = await startMetrics(env);
    const apiUrl = api.url;
    await enqueueDemo(apiUrl, { durationMs: 0, failAttempts: 1 });
    const alerts = await waitFor('the retried job to finish', async () => {
      const a = await alertsOf(apiUrl);
      return a?.values.finishedInWindow === 1 ? a : undefined;
    }, 20_000);
    expect(alerts.values).toMatchObject({ failedInWindow: 0, failureRate: 0 });
    expect(alerts.alerts.failureRateHigh).toBe(false);
  });

  it('raises workerStalled for a worker holding a job without progress past the limit, and resolves it when the job ends', async () => {
    env.ALERT_WORKER_STALL_MS = '1000';
    env.WORKER_HEARTBEAT_MS = '200';
    api = await startApi(env);
    worker = await startWorker(env);
    metrics = await startMetrics(env);
    const apiUrl = api.url;
    await enqueueDemo(apiUrl, { durationMs: 2_500 });
    const stalled = await waitFor('workerStalled', async () => {
      const a = await alertsOf(apiUrl);
      return a?.alerts.workerStalled ? a : undefined;
    }, 10_000);
    expect(stalled.values).toMatchObject({ workersStalled: 1, workersLive: 1, active: 1 });
    await waitFor('workerStalled to resolve', async () => (await alertsOf(apiUrl))?.alerts.workerStalled === false, 10_000);
  });

  it('raises workerStalled for a killed worker that held a job, and resolves it once another worker took the job over', async () => {
    Object.assign(env, { ALERT_WORKER_STALL_MS: '1000', WORKER_HEARTBEAT_MS: '200' });
    api = await startApi(env);
    metrics = await startMetrics(env);
    const doomed = await spawnService('worker', env);
    const apiUrl = api.url;
    try {
      // Progress every 200 ms: only the missing heartbeat can make this worker stalled.
      const { jobId } = await enqueueDemo(apiUrl, { durationMs: 4_000, steps: 20 });
      await waitFor('the heartbeat to list the job', async () =>
        Object.values(await redis.hgetall(`${env.QUEUE_PREFIX}:jobs:js:ops:workers`)).some((beat) => beat.includes(jobId)),
      );
      await doomed.stop('SIGKILL');
      const stalled = await waitFor('workerStalled', async () => {
        const a = await alertsOf(apiUrl);
        return a?.alerts.workerStalled ? a : undefined;
      });
      expect(stalled.values).toMatchObject({ workersStalled: 1, workersLive: 0 });

      worker = await startWorker(env);
      await waitFor('workerStalled to resolve', async () => (await alertsOf(apiUrl))?.alerts.workerStalled === false, 20_000);
      await waitFor('the job to complete elsewhere', async () => (await http('GET', `${apiUrl}/api/jobs/${jobId}`)).body.state === 'completed', 20_000);
      expect(Object.keys(await redis.hgetall(`${env.QUEUE_PREFIX}:jobs:js:ops:workers`))).toHaveLength(1);
    } finally {
      await doomed.stop('SIGKILL');
    }
  });

  it('answers 503 ALERTS_UNAVAILABLE on the api before the metrics service has evaluated, and marks an old answer stale', async () => {
    api = await startApi(env);
    const user = await http('GET', `${api.url}/api/metrics/alerts`);
    expect(user.status).toBe(403);
    const res = await http('GET', `${api.url}/api/metrics/alerts`, undefined, await authHeaders('ops', ['admin']));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('ALERTS_UNAVAILABLE');

    metrics = await startMetrics(env);
    const apiUrl = api.url;
    await waitFor('a first evaluation', () => alertsOf(apiUrl));
    await metrics.close();
    metrics = undefined;
    const stale = await waitFor('the answer to go stale', async () => {
      const a = await alertsOf(apiUrl);
      return a?.stale ? a : undefined;
    }, 5_000, 50);
    expect(stale.alertsActive).toBe(0);
  });
});
