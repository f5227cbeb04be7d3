import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { cleanupPrefix, testEnv, testRedisUrl } from '../../test-support/services';
import { exposedMetricNames, freePort, promqlMetricNames, repoRoot, spawnBuilt, type BuiltService } from './helpers';

interface Target {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

const dashboard = JSON.parse(readFileSync(join(repoRoot, 'deploy', 'grafana', 'jobstream.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
};
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const dashboardNames = new Set(exprs.flatMap(promqlMetricNames));

/** Series Prometheus itself makes (per target, per alert rule); they are in no /metrics page. */
const PROMETHEUS_SERIES = new Set(['up', 'ALERTS']);

describe('the Grafana dashboard (deploy/grafana/jobstream.json)', () => {
  it('is a dashboard whose panels all query the Prometheus picked in its datasource variable', () => {
    expect(dashboard).toMatchObject({ uid: 'jobstream', title: 'jobstream' });
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of queryPanels) {
      expect(`${panel.title}: ${(panel.targets?.length ?? 0) > 0}`).toBe(`${panel.title}: true`);
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets ?? []) {
        expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(target.expr.trim()).not.toBe('');
      }
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  it('shows queue depth, throughput, failures, wait and processing percentiles, streams, delivery lag, budget, kill-switch and alerts', () => {
    const wanted = {
      'queue depth by state': /sum by \(state\) \(jobstream_queue_jobs\)/,
      throughput: /rate\(jobstream_jobs_completed_total/,
      'failure rate': /jobstream_jobs_failed_total.*\/.*jobstream_jobs_completed_total/,
      'wait time percentiles': /histogram_quantile\(0\.95, .*jobstream_job_wait_seconds_bucket/,
      'processing time percentiles': /histogram_quantile\(0\.95, .*jobstream_job_processing_seconds_bucket/,
      'open streams': /jobstream_sse_connections/,
      'event delivery lag': /histogram_quantile\(0\.95, .*jobstream_sse_delivery_lag_seconds_bucket/,
      'budget spent': /jobstream_budget_spent_usd/,
      'budget limit': /jobstream_budget_limit_usd/,
      'budget warning level': /jobstream_budget_warn_usd/,
      'kill-switch': /jobstream_kill_switch_enabled/,
      'active alerts': /jobstream_alert_active/,
      'alert rules firing': /ALERTS\{alertstate="firing"/,
    };
    const missing = Object.entries(wanted).filter(([, pattern]) => !exprs.some((expr) => pattern.test(expr)));
    expect(missing.map(([what]) => what)).toEqual([]);
  });

  it('has only queries that Prometheus parses (promtool check rules on each expression)', () => {
    // Grafana's interval variables become a fixed range, as Grafana substitutes them before sending.
    const rules = queryPanels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ record: `jobstream_dashboard:panel_${panel.id}_${target.refId}`, expr: target.expr.replaceAll('$__rate_interval', '1m') })),
    );
    const dir = mkdtempSync(join(tmpdir(), 'jobstream-dashboard-'));
    try {
      writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const out = execFileSync('promtool', ['check', 'rules', join(dir, 'queries.yml')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is provisioned by the compose Grafana from the folder the file is mounted into, against the compose Prometheus', () => {
    const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { volumes?: string[]; profiles?: string[] }> };
    const grafana = compose.services.grafana;
    expect(grafana?.profiles).toEqual(['monitoring']);
    const mounts = new Map((grafana?.volumes ?? []).map((v) => [v.split(':')[0], v.split(':')[1]]));
    const dashboardFile = mounts.get('./deploy/grafana/jobstream.json') ?? '';
    const provisioning = mounts.get('./deploy/grafana/provisioning');
    expect(provisioning).toBe('/etc/grafana/provisioning');

    const providers = parse(readFileSync(join(repoRoot, 'deploy', 'grafana', 'provisioning', 'dashboards', 'jobstream.yml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(providers.providers).toHaveLength(1);
    expect(providers.providers[0]?.type).toBe('file');
    expect(dashboardFile.startsWith(`${providers.providers[0]?.options.path}/`)).toBe(true);

    const sources = parse(readFileSync(join(repoRoot, 'deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
      datasources: { type: string; url: string }[];
    };
    expect(sources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(compose.services.prometheus?.profiles).toEqual(['monitoring']);
  });
});

describe("the dashboard's metric names", () => {
  let env: ReturnType<typeof testEnv>;
  const services: BuiltService[] = [];

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('all exist in the /metrics pages of the running api, worker and metrics service', async () => {
    env = testEnv();
    const workerMetricsPort = await freePort();
    services.push(await spawnBuilt('api', env, 'api listening'));
    services.push(await spawnBuilt('metrics', { ...env, METRICS_PORT: '0', METRICS_ADMIN_PORT: '0' }, 'metrics listening'));
    services.push(await spawnBuilt('worker', { ...env, WORKER_METRICS_PORT: String(workerMetricsPort) }, 'worker metrics listening'));
    const exposed = new Set<string>();
    for (const service of services) {
      const res = await fetch(`http://127.0.0.1:${service.port}/metrics`);
      expect(res.status).toBe(200);
      for (const name of exposedMetricNames(await res.text())) exposed.add(name);
    }
    expect(exposed.has('jobstream_sse_connections')).toBe(true);

    // The dashboard, and the External metric of the worker HPA alternative (components/worker-hpa).
    const hpa = parse(readFileSync(join(repoRoot, 'deploy', 'k8s', 'components', 'worker-hpa', 'worker-hpa.yaml'), 'utf8'));
    const wanted = [...dashboardNames, hpa.spec.metrics[0].external.metric.name as string];
    expect(wanted.filter((name) => !exposed.has(name) && !PROMETHEUS_SERIES.has(name))).toEqual([]);
  });
});

describe('promqlMetricNames', () => {
  it('finds the metric names of an expression, not its functions, labels, ranges or variables', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, type) (rate(a_bucket{state="x",job=~"b|c"}[$__rate_interval]))) / on (job) group_left max(b_total offset 5m) > bool 1e3 and c',
      ).sort(),
    ).toEqual(['a_bucket', 'b_total', 'c']);
  });
});
