import { loadConfig as loadApiConfig } from '@jobstream/api';
import { loadConfig as loadMetricsConfig } from '@jobstream/metrics';
import { loadConfig as loadWorkerConfig } from '@jobstream/worker';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { http } from '../../test-support/http';
import { cleanupPrefix, startApi, testEnv, testRedisClient, testRedisUrl } from '../../test-support/services';
import { at, hasKubectl, knownVariables as knownVariablesOf, kustomize, repoRoot, schemaProblems, type K8sObject } from './helpers';

const k8sDir = join(repoRoot, 'deploy', 'k8s');
const overlays = ['dev', 'prod'] as const;

if (!hasKubectl()) {
  throw new Error('kubectl is not on the PATH: the Kubernetes manifests are rendered with `kubectl kustomize` (see deploy/README.md)');
}
const rendered: Record<(typeof overlays)[number], K8sObject[]> = {
  dev: kustomize(join(k8sDir, 'overlays', 'dev')),
  prod: kustomize(join(k8sDir, 'overlays', 'prod')),
};

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
};
const workloads = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const containersOf = (workload: K8sObject): any[] => at(workload, 'spec', 'template', 'spec', 'containers') ?? [];
const configData = (objects: K8sObject[]): Record<string, string> => {
  const [config] = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('jobstream-config'));
  return (at(config, 'data') ?? {}) as Record<string, string>;
};

/** The Secret's keys and example values, from the committed template. */
const secretExample: Record<string, string> = Object.fromEntries(
  readFileSync(join(k8sDir, 'secrets.env.example'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z0-9_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);

/** The environment a container would see: its ConfigMap, its env values, the Secret's example values. */
function containerEnv(objects: K8sObject[], container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name: string | undefined = source.configMapRef?.name;
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (!config) throw new Error(`envFrom names ConfigMap ${name}, which the overlay does not contain`);
    Object.assign(env, at(config, 'data'));
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref && secretExample[ref.key] !== undefined) env[variable.name] = secretExample[ref.key] as string;
  }
  return env;
}

const knownVariables = knownVariablesOf();

/** What every workload must have: requests and limits, both probes, a pinned image, no root. */
function workloadProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const workload of workloads(objects)) {
    for (const container of containersOf(workload)) {
      const where = `${workload.kind}/${workload.metadata.name} ${container.name}`;
      for (const kind of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) if (!at(container, 'resources', kind, resource)) problems.push(`${where}: no ${kind}.${resource}`);
      }
      if (!container.livenessProbe) problems.push(`${where}: no livenessProbe`);
      if (!container.readinessProbe) problems.push(`${where}: no readinessProbe`);
      if (!/:[^/]+$/.test(container.image) || container.image.endsWith(':latest')) problems.push(`${where}: image ${container.image} has no pinned tag`);
      if (at(container, 'securityContext', 'allowPrivilegeEscalation') !== false) problems.push(`${where}: privilege escalation allowed`);
    }
    if (at(workload, 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot') !== true) problems.push(`${workload.metadata.name}: may run as root`);
  }
  return problems;
}

describe.each(overlays)('the %s overlay', (overlay) => {
  const objects = rendered[overlay];

  it('renders with kubectl kustomize into objects that all fit the Kubernetes (and CRD) schemas, without unknown fields', () => {
    expect(objects.length).toBeGreaterThan(10);
    expect(schemaProblems(objects)).toEqual([]);
  });

  it('puts every object in the overlay namespace', () => {
    const namespace = overlay === 'dev' ? 'jobstream-dev' : 'jobstream';
    expect(named(objects, 'Namespace', namespace)).toBeDefined();
    for (const obj of objects.filter((o) => o.kind !== 'Namespace')) expect(`${obj.kind}/${obj.metadata.name}: ${obj.metadata.namespace}`).toBe(`${obj.kind}/${obj.metadata.name}: ${namespace}`);
  });

  it('gives every container resource requests and limits, a liveness and a readiness probe, and a pinned image', () => {
    expect(workloadProblems(objects)).toEqual([]);
  });

  it('probes the api, the metrics service and the worker on /healthz (liveness) and /readyz (readiness)', () => {
    for (const [name, container] of [['jobstream-api', 'api'], ['jobstream-metrics', 'metrics']] as const) {
      const spec = containersOf(named(objects, 'Deployment', name)).find((c) => c.name === container);
      expect(at(spec, 'livenessProbe', 'httpGet', 'path')).toBe('/healthz');
      expect(at(spec, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz');
      expect(spec.ports.map((p: any) => p.name)).toContain(at(spec, 'readinessProbe', 'httpGet', 'port'));
    }
    const worker = containersOf(named(objects, 'Deployment', 'jobstream-worker'))[0];
    // The worker serves its health routes on the metrics port (WORKER_METRICS_PORT).
    expect(at(worker, 'startupProbe', 'httpGet')).toEqual({ path: '/healthz', port: 'metrics' });
    expect(at(worker, 'livenessProbe', 'httpGet')).toEqual({ path: '/healthz', port: 'metrics' });
    expect(at(worker, 'readinessProbe', 'httpGet')).toEqual({ path: '/readyz', port: 'metrics' });
    expect(worker.ports).toEqual([{ name: 'metrics', containerPort: Number(configData(objects).WORKER_METRICS_PORT) }]);
  });

  it('gives each service a preStop and a grace period longer than its whole shutdown', () => {
    const config = configData(objects);
    const seconds = (name: string) => Number(config[name]) / 1_000;
    const budgets: Record<string, { container: string; shutdown: number }> = {
      // main.ts of each service: its shutdown timeout plus the hard limit it adds on top.
      'jobstream-api': { container: 'api', shutdown: seconds('SHUTDOWN_TIMEOUT_MS') + 5 },
      'jobstream-metrics': { container: 'metrics', shutdown: seconds('SHUTDOWN_TIMEOUT_MS') + 5 },
      'jobstream-worker': { container: 'worker', shutdown: seconds('WORKER_SHUTDOWN_TIMEOUT_MS') + 10 },
    };
    for (const [deployment, { container, shutdown }] of Object.entries(budgets)) {
      expect(Number.isFinite(shutdown)).toBe(true);
      const pod = at(named(objects, 'Deployment', deployment), 'spec', 'template', 'spec');
      const spec = pod.containers.find((c: any) => c.name === container);
      const preStop: string[] = at(spec, 'lifecycle', 'preStop', 'exec', 'command') ?? [];
      expect(preStop[0]).toBe('sleep');
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(preStop[1]) + shutdown);
    }
  });

  it('hands every service a configuration its own loadConfig accepts, with no variable the services do not read', () => {
    const loaders: Record<string, (env: NodeJS.ProcessEnv) => unknown> = { api: loadApiConfig, worker: loadWorkerConfig, metrics: loadMetricsConfig };
    for (const workload of ofKind(objects, 'Deployment').filter((d) => d.metadata.name.startsWith('jobstream-'))) {
      for (const container of containersOf(workload)) {
        const env = containerEnv(objects, container);
        const load = loaders[container.name];
        expect(load).toBeDefined();
        expect(() => load?.(env)).not.toThrow();
        expect(Object.keys(env).filter((name) => !knownVariables.has(name))).toEqual([]);
      }
    }
  });

  it('reads secrets only from the externally created Secret jobstream-secrets, with keys from its template', () => {
    expect(ofKind(objects, 'Secret')).toEqual([]);
    const refs = workloads(objects).flatMap((w) => containersOf(w).flatMap((c) => (c.env ?? []).map((e: any) => e.valueFrom?.secretKeyRef).filter(Boolean)));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.name).toBe('jobstream-secrets');
      expect(Object.keys(secretExample)).toContain(ref.key);
    }
    for (const auth of ofKind(objects, 'TriggerAuthentication')) {
      for (const ref of at(auth, 'spec', 'secretTargetRef')) {
        expect(ref.name).toBe('jobstream-secrets');
        expect(Object.keys(secretExample)).toContain(ref.key);
      }
    }
  });

  it('gives every service the Redis password from the Secret and the Redis CA read-only from an optional ConfigMap', () => {
    for (const workload of ofKind(objects, 'Deployment').filter((d) => d.metadata.name.startsWith('jobstream-'))) {
      const pod = at(workload, 'spec', 'template', 'spec');
      for (const container of containersOf(workload)) {
        const password = (container.env ?? []).find((e: any) => e.name === 'REDIS_PASSWORD');
        expect(password?.valueFrom?.secretKeyRef).toEqual({ name: 'jobstream-secrets', key: 'REDIS_PASSWORD', optional: true });
        const mount = (container.volumeMounts ?? []).find((m: any) => m.name === 'redis-ca');
        expect(mount).toEqual({ name: 'redis-ca', mountPath: '/etc/jobstream/redis-ca', readOnly: true });
      }
      expect(pod.volumes.find((v: any) => v.name === 'redis-ca')).toEqual({ name: 'redis-ca', configMap: { name: 'jobstream-redis-ca', optional: true } });
    }
  });

  it('routes every Service to pods that exist, on ports those pods declare', () => {
    for (const service of ofKind(objects, 'Service')) {
      const selector: Record<string, string> = at(service, 'spec', 'selector');
      const pods = workloads(objects).filter((w) =>
        Object.entries(selector).every(([key, value]) => at(w, 'spec', 'template', 'metadata', 'labels', key) === value),
      );
      expect(pods.map((p) => p.metadata.name)).toHaveLength(1);
      const ports = containersOf(pods[0] as K8sObject).flatMap((c) => c.ports ?? []);
      for (const port of at(service, 'spec', 'ports')) {
        expect(ports.some((p: any) => p.name === port.targetPort || p.containerPort === port.targetPort)).toBe(true);
      }
    }
  });

  it('scales the api on CPU and keeps one api and one worker through voluntary disruptions', () => {
    const hpa = named(objects, 'HorizontalPodAutoscaler', 'jobstream-api');
    expect(at(hpa, 'spec', 'scaleTargetRef')).toMatchObject({ kind: 'Deployment', name: 'jobstream-api' });
    expect(at(hpa, 'spec', 'minReplicas')).toBeGreaterThanOrEqual(2);
    expect(at(hpa, 'spec', 'metrics', 0, 'resource', 'name')).toBe('cpu');
    expect(at(named(objects, 'Deployment', 'jobstream-api'), 'spec', 'replicas')).toBeUndefined();
    for (const component of ['api', 'worker']) {
      const pdb = named(objects, 'PodDisruptionBudget', `jobstream-${component}`);
      expect(at(pdb, 'spec', 'selector', 'matchLabels', 'app.kubernetes.io/component')).toBe(component);
      expect(at(pdb, 'spec', 'maxUnavailable')).toBe(1);
    }
  });

  it('lets only the ingress controller reach the api, and nothing else in from outside but Prometheus on the metrics ports', () => {
    const policies = ofKind(objects, 'NetworkPolicy');
    const denyAll = policies.find((p) => Object.keys(at(p, 'spec', 'podSelector') ?? {}).length === 0 && !at(p, 'spec', 'ingress'));
    expect(at(denyAll, 'spec', 'policyTypes')).toEqual(['Ingress']);
    const fromNamespace = (ns: string) =>
      policies.filter((p) => (at(p, 'spec', 'ingress') ?? []).some((rule: any) => (rule.from ?? []).some((f: any) => at(f, 'namespaceSelector', 'matchLabels', 'kubernetes.io/metadata.name') === ns)));
    const fromIngress = fromNamespace('ingress-nginx');
    expect(fromIngress).toHaveLength(1);
    expect(at(fromIngress[0], 'spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/component')).toBe('api');
    const scrape = fromNamespace('monitoring');
    expect(scrape).toHaveLength(1);
    expect(at(scrape[0], 'spec', 'ingress', 0, 'ports').map((p: any) => p.port).sort()).toEqual([3000, 9101, 9102]);
    // Every other allowing rule admits pods of this namespace only (dev: jobstream's pods to Redis).
    for (const policy of policies.filter((p) => p !== denyAll && !fromIngress.includes(p) && !scrape.includes(p))) {
      for (const rule of at(policy, 'spec', 'ingress') ?? []) for (const from of rule.from ?? []) expect(Object.keys(from)).toEqual(['podSelector']);
    }
  });

  it('limits the worker’s egress to DNS, Redis and the internet on 443 and 80, never a private, loopback or metadata range', () => {
    const egress = ofKind(objects, 'NetworkPolicy').filter((p) => (at(p, 'spec', 'policyTypes') ?? []).includes('Egress'));
    expect(egress.map((p) => at(p, 'spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/component'))).toEqual(['worker']);
    const rules: any[] = at(egress[0], 'spec', 'egress');
    const ports = (rule: any): string[] => rule.ports.map((p: any) => `${p.protocol}/${p.port}`).sort();
    const dns = rules.filter((rule) => rule.to.some((t: any) => at(t, 'podSelector', 'matchLabels', 'k8s-app') === 'kube-dns'));
    expect(dns.map(ports)).toEqual([['TCP/53', 'UDP/53']]);
    const internet = rules.filter((rule) => rule.to.some((t: any) => at(t, 'ipBlock', 'cidr') === '0.0.0.0/0'));
    expect(internet.map(ports)).toEqual([['TCP/443', 'TCP/80']]);
    const excluded = internet[0].to.flatMap((t: any) => at(t, 'ipBlock', 'except') ?? []);
    for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10', '::1/128', 'fc00::/7', 'fe80::/10']) {
      expect(excluded).toContain(range);
    }
    // Every other rule reaches Redis only: 6379, or 6380 for a managed Redis with TLS.
    for (const rule of rules.filter((r) => !dns.includes(r) && !internet.includes(r))) {
      for (const port of ports(rule)) expect(['TCP/6379', 'TCP/6380']).toContain(port);
    }
    expect(rules.some((rule) => ports(rule).includes('TCP/6379'))).toBe(true);
  });

  it('gives the api and the worker the push keys from the Secret, and the FCM and Expo credentials to the worker only', () => {
    const secretKeys = (deployment: string) =>
      containersOf(named(objects, 'Deployment', deployment))
        .flatMap((c) => c.env ?? [])
        .map((e: any) => e.valueFrom?.secretKeyRef)
        .filter((ref: any) => ref && /^(VAPID_|FCM_|EXPO_)/.test(ref.key));
    const vapid = ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'];
    expect(secretKeys('jobstream-api').map((ref: any) => ref.key)).toEqual(vapid);
    expect(secretKeys('jobstream-worker').map((ref: any) => ref.key)).toEqual([...vapid, 'FCM_SERVICE_ACCOUNT_JSON', 'EXPO_ACCESS_TOKEN']);
    // Optional: a cluster without push leaves them out of the Secret and runs with push off.
    for (const ref of [...secretKeys('jobstream-api'), ...secretKeys('jobstream-worker')]) expect(ref).toMatchObject({ name: 'jobstream-secrets', optional: true });
    const data = configData(objects);
    expect(data.DASHBOARD_BASE_URL).toMatch(/^https?:\/\//);
    for (const shared of ['PUSH_MAX_SUBSCRIPTIONS_PER_USER', 'PUSH_MAX_PER_DEVICE_PER_MINUTE', 'PUSH_MAX_PAYLOAD_BYTES', 'WEBHOOK_MAX_ENDPOINTS_PER_USER', 'WEBHOOK_MAX_ATTEMPTS']) {
      expect(data[shared]).toMatch(/^\d+$/);
    }
  });

  it('exposes /api and the dashboard, and nothing else, through an Ingress set up for SSE, without sticky sessions', () => {
    const ingress = named(objects, 'Ingress', 'jobstream');
    const annotations = ingress.metadata.annotations ?? {};
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    const heartbeatSeconds = Number(configData(objects).SSE_HEARTBEAT_MS) / 1_000;
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThan(4 * heartbeatSeconds);
    expect(Object.keys(annotations).filter((key) => /affinity|sticky|session-cookie/.test(key))).toEqual([]);
    const paths: { path: string; pathType: string; backend: unknown }[] = at(ingress, 'spec', 'rules', 0, 'http', 'paths');
    for (const p of paths) expect(p.backend).toEqual({ service: { name: 'jobstream-api', port: { name: 'http' } } });
    // The Kubernetes path rules: Exact is the whole path, Prefix whole path segments.
    const routed = (path: string) =>
      paths.some((p) => (p.pathType === 'Exact' ? path === p.path : path === p.path || path.startsWith(`${p.path.replace(/\/$/, '')}/`)));
    // The dashboard's top-level files (vite copies public/ to the root of the build).
    const topLevel = readdirSync(join(repoRoot, 'packages', 'dashboard', 'public')).map((name) => `/${name}`);
    const publicPaths = ['/api/jobs', '/api/me', '/', '/index.html', '/assets/index-abc123.js', ...topLevel];
    expect(publicPaths.filter((path) => !routed(path))).toEqual([]);
    expect(['/metrics', '/healthz', '/readyz', '/apix', '/.env', '/main.js'].filter(routed)).toEqual([]);
    expect(at(named(objects, 'Service', 'jobstream-api'), 'spec', 'ports').map((p: any) => p.name)).toContain('http');
  });
});

describe('the dev overlay', () => {
  const objects = rendered.dev;

  it('runs a single-node Redis with AOF and noeviction as a StatefulSet, and points the services at it', () => {
    const redis = named(objects, 'StatefulSet', 'redis');
    expect(at(redis, 'spec', 'replicas')).toBe(1);
    const args = (containersOf(redis)[0]?.args ?? []).join(' ');
    expect(args).toMatch(/--appendonly yes/);
    expect(args).toMatch(/--maxmemory-policy noeviction/);
    expect(at(redis, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name')).toBe('data');
    expect(configData(objects).REDIS_URL).toBe('redis://redis:6379');
    expect(at(named(objects, 'Service', 'redis'), 'spec', 'ports', 0, 'port')).toBe(6379);
  });

  it('needs no CRD: no KEDA or Prometheus Operator objects, two fixed workers', () => {
    expect(objects.filter((o) => !/^(v1|apps\/v1|autoscaling\/v2|policy\/v1|networking\.k8s\.io\/v1)$/.test(o.apiVersion))).toEqual([]);
    expect(at(named(objects, 'Deployment', 'jobstream-worker'), 'spec', 'replicas')).toBe(2);
  });
});

describe('the prod overlay', () => {
  const objects = rendered.prod;

  it('runs no Redis of its own and requires REDIS_URL from the Secret', () => {
    expect(objects.filter((o) => o.metadata.name === 'redis')).toEqual([]);
    expect(configData(objects).REDIS_URL).toBeUndefined();
    for (const workload of ofKind(objects, 'Deployment')) {
      const redisUrl = (containersOf(workload)[0]?.env ?? []).find((e: any) => e.name === 'REDIS_URL');
      expect(redisUrl.valueFrom.secretKeyRef).toEqual({ name: 'jobstream-secrets', key: 'REDIS_URL', optional: false });
    }
  });

  it("scales the workers with KEDA on the length of BullMQ's wait list, never below two", () => {
    const scaled = named(objects, 'ScaledObject', 'jobstream-worker');
    expect(at(scaled, 'spec', 'scaleTargetRef', 'name')).toBe('jobstream-worker');
    expect(at(scaled, 'spec', 'minReplicaCount')).toBeGreaterThanOrEqual(2);
    const config = configData(objects);
    expect(at(scaled, 'spec', 'triggers', 0)).toMatchObject({
      type: 'redis',
      metadata: { listName: `${config.QUEUE_PREFIX}:${config.QUEUE_NAME}:wait`, listLength: expect.stringMatching(/^\d+$/) },
      authenticationRef: { name: named(objects, 'TriggerAuthentication', 'jobstream-redis').metadata.name },
    });
    // KEDA's HPA owns the count: the Deployment must not fight it.
    expect(at(named(objects, 'Deployment', 'jobstream-worker'), 'spec', 'replicas')).toBeUndefined();
  });

  it('scrapes every service through a ServiceMonitor whose endpoints name ports of the Services', () => {
    const monitor = named(objects, 'ServiceMonitor', 'jobstream');
    const selector: Record<string, string> = at(monitor, 'spec', 'selector', 'matchLabels');
    const services = ofKind(objects, 'Service').filter((s) => Object.entries(selector).every(([k, v]) => s.metadata.labels?.[k] === v));
    expect(services.map((s) => s.metadata.name).sort()).toEqual(['jobstream-api', 'jobstream-metrics', 'jobstream-worker']);
    const endpointPorts: string[] = at(monitor, 'spec', 'endpoints').map((e: any) => e.port);
    for (const service of services) {
      const scraped = at(service, 'spec', 'ports').filter((p: any) => endpointPorts.includes(p.name));
      expect(`${service.metadata.name}: ${scraped.length}`).toBe(`${service.metadata.name}: 1`);
    }
    expect(at(monitor, 'spec', 'jobLabel')).toBe('app.kubernetes.io/component');
    for (const service of services) expect(service.metadata.labels?.['app.kubernetes.io/component']).toMatch(/^(api|worker|metrics)$/);
  });

  it('carries exactly the rule groups of deploy/prometheus/alerts.yml in its PrometheusRule', () => {
    const alerts = parse(readFileSync(join(repoRoot, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: unknown[] };
    expect(alerts.groups.length).toBeGreaterThan(0);
    expect(at(named(objects, 'PrometheusRule', 'jobstream'), 'spec', 'groups')).toEqual(alerts.groups);
  });
});

describe('the worker HPA alternative (components/worker-hpa)', () => {
  it('renders on top of the base into a valid HPA on the waiting-jobs gauge', () => {
    // An overlay in a temporary folder, as a user would write one (kustomize wants relative paths).
    const dir = mkdtempSync(join(tmpdir(), 'jobstream-k8s-'));
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'namespace: jobstream',
          'resources:',
          `  - ${relative(dir, join(k8sDir, 'base'))}`,
          'components:',
          `  - ${relative(dir, join(k8sDir, 'components', 'worker-hpa'))}`,
          '',
        ].join('\n'),
      );
      const objects = kustomize(dir);
      expect(schemaProblems(objects)).toEqual([]);
      const hpa = named(objects, 'HorizontalPodAutoscaler', 'jobstream-worker');
      expect(at(hpa, 'spec', 'scaleTargetRef', 'name')).toBe('jobstream-worker');
      expect(at(hpa, 'spec', 'metrics', 0, 'external', 'metric')).toEqual({ name: 'jobstream_queue_jobs', selector: { matchLabels: { state: 'waiting' } } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the kustomizations', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? files(join(dir, entry.name)) : entry.name === 'kustomization.yaml' ? [join(dir, entry.name)] : [],
    );

  it('generate no Secret and keep the filled-in secrets file out of git', () => {
    for (const file of files(k8sDir)) expect(readFileSync(file, 'utf8')).not.toMatch(/secretGenerator/);
    expect(readFileSync(join(k8sDir, '.gitignore'), 'utf8').split('\n')).toContain('secrets.env');
    expect(existsSync(join(k8sDir, 'secrets.env.example'))).toBe(true);
  });
});

describe("the KEDA trigger's list", () => {
  let env: ReturnType<typeof testEnv>;
  afterEach(async () => cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX));

  it('is the Redis list where BullMQ keeps the jobs no worker has taken yet', async () => {
    env = testEnv();
    const listName: string = at(named(rendered.prod, 'ScaledObject', 'jobstream-worker'), 'spec', 'triggers', 0, 'metadata', 'listName');
    const config = configData(rendered.prod);
    const key = listName.replace(config.QUEUE_PREFIX as string, env.QUEUE_PREFIX);
    const api = await startApi(env);
    const redis = testRedisClient();
    try {
      for (let i = 0; i < 3; i += 1) {
        expect((await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0 } })).status).toBe(202);
      }
      expect(await redis.llen(key)).toBe(3);
    } finally {
      redis.disconnect();
      await api.close();
    }
  });
});

describe('the manifest checks', () => {
  const api = () => structuredClone(named(rendered.prod, 'Deployment', 'jobstream-api'));

  it('fail on a field the schema does not know, at any depth', () => {
    const deployment = api();
    (deployment.spec as any).replica = 3;
    containersOf(deployment)[0].livenessProbe.httpGet.paht = '/healthz';
    expect(schemaProblems(deployment)).toEqual([
      'Deployment jobstream-api: unknown field /spec/replica',
      'Deployment jobstream-api: unknown field /spec/template/spec/containers/0/livenessProbe/httpGet/paht',
    ]);
  });

  it('fail on a value of the wrong type or a missing required field', () => {
    const deployment = api();
    containersOf(deployment)[0].ports[0].containerPort = 'three thousand';
    expect(schemaProblems(deployment).join()).toMatch(/containerPort/);
    const scaled = structuredClone(named(rendered.prod, 'ScaledObject', 'jobstream-worker'));
    delete (scaled.spec as any).triggers;
    expect(schemaProblems(scaled).join()).toMatch(/triggers/);
  });

  it('fail on a missing probe or a missing resource limit', () => {
    const deployment = api();
    delete containersOf(deployment)[0].readinessProbe;
    delete containersOf(deployment)[0].resources.limits.memory;
    expect(workloadProblems([deployment])).toEqual([
      'Deployment/jobstream-api api: no limits.memory',
      'Deployment/jobstream-api api: no readinessProbe',
    ]);
  });
});
