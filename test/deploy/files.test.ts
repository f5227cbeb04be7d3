import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { knownVariables as knownVariablesOf } from './helpers';

const root = join(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  command?: string | string[];
  build?: { target?: string };
  deploy?: { replicas?: number };
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  environment?: Record<string, string | null>;
  stop_grace_period?: string;
}

interface Stage {
  name: string;
  from: string;
  instructions: string[];
}

/** Dockerfile stages with their instructions, continuation lines joined and comments dropped. */
function dockerStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1] ?? '', name: from[2] ?? String(stages.length), instructions: [] });
    else stages.at(-1)?.instructions.push(line);
  }
  return stages;
}

/** A stage and the stages it is built FROM, nearest first. */
function chain(stages: Stage[], name: string): Stage[] {
  const found: Stage[] = [];
  for (let stage = stages.find((s) => s.name === name); stage; stage = stages.find((s) => s.name === stage?.from)) {
    found.push(stage);
  }
  return found;
}

/** The last matching instruction in effect for a stage, following its FROM chain. */
function effective(stages: Stage[], name: string, keyword: string): string | undefined {
  for (const stage of chain(stages, name)) {
    const hit = stage.instructions.filter((i) => i.toUpperCase().startsWith(`${keyword} `)).at(-1);
    if (hit) return hit.slice(keyword.length).trim();
  }
  return undefined;
}

// `merge`: the services share their Redis settings through a YAML merge key (<<: *service-env).
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const nginxConf = readFileSync(join(root, 'deploy', 'nginx', 'nginx.conf'), 'utf8');
const knownVariables = knownVariablesOf();
const stages = dockerStages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const serviceDirs = readdirSync(join(root, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const targets = [...new Set(['api', 'worker', 'metrics', ...serviceDirs])];

describe('docker-compose.yml', () => {
  it('runs Redis with AOF persistence and the noeviction policy BullMQ requires', () => {
    const redis = compose.services.redis;
    expect(redis?.image).toMatch(/^redis:7/);
    const command = [redis?.command ?? []].flat().join(' ');
    expect(command).toMatch(/--appendonly\s+yes/);
    expect(command).toMatch(/--maxmemory-policy\s+noeviction/);
  });

  it('runs two api replicas, two workers and the metrics service, each from its Dockerfile target', () => {
    expect(compose.services.api?.build?.target).toBe('api');
    expect(compose.services.api?.deploy?.replicas).toBe(2);
    expect(compose.services.worker?.build?.target).toBe('worker');
    expect(compose.services.worker?.deploy?.replicas).toBe(2);
    expect(compose.services.metrics?.build?.target).toBe('metrics');
    for (const service of Object.values(compose.services)) {
      if (service.build?.target) expect(stages.map((s) => s.name)).toContain(service.build.target);
    }
  });

  it('publishes the api only through nginx, which mounts deploy/nginx/nginx.conf', () => {
    expect(compose.services.api?.ports).toBeUndefined();
    const nginx = compose.services.nginx;
    expect(nginx?.image).toMatch(/^nginx:/);
    expect(nginx?.volumes).toContain('./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(nginx?.ports).toEqual(['3000:8080']);
    expect(nginxConf).toMatch(/^\s*listen 8080;/m);
    expect(nginxConf).toContain('set $api http://api:3000;');
  });

  it('gives each service a stop grace period longer than its own shutdown', () => {
    const seconds = (value: string | undefined) => Number(/^(\d+)s$/.exec(value ?? '')?.[1] ?? NaN);
    const env = (name: string, variable: string, fallback: number) => Number(compose.services[name]?.environment?.[variable] ?? fallback) / 1_000;
    expect(seconds(compose.services.api?.stop_grace_period)).toBeGreaterThan(env('api', 'SHUTDOWN_TIMEOUT_MS', 10_000) + 5);
    expect(seconds(compose.services.metrics?.stop_grace_period)).toBeGreaterThan(env('metrics', 'SHUTDOWN_TIMEOUT_MS', 10_000) + 5);
    expect(seconds(compose.services.worker?.stop_grace_period)).toBeGreaterThan(env('worker', 'WORKER_SHUTDOWN_TIMEOUT_MS', 30_000) + 10);
  });

  it('passes the services only variables their configuration reads', () => {
    for (const name of ['api', 'worker', 'metrics']) {
      const unknown = Object.keys(compose.services[name]?.environment ?? {}).filter((variable) => !knownVariables.has(variable));
      expect(`${name}: ${unknown.join(', ')}`).toBe(`${name}: `);
    }
  });

  it('mounts only files that exist in the repository', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('.')) expect(`${name}: ${source} ${existsSync(join(root, source))}`).toBe(`${name}: ${source} true`);
      }
    }
  });
});

describe('nginx.conf (deploy/nginx)', () => {
  const directive = (name: string): string[] =>
    [...nginxConf.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, 'gm'))].map((m) => (m[1] ?? '').trim());
  const seconds = (value: string): number => {
    const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
    const unit = { ms: 0.001, s: 1, m: 60, h: 3_600, d: 86_400 }[(match?.[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
    return match ? Number(match[1]) * unit : NaN;
  };

  it('streams SSE: HTTP/1.1 upstream without Connection: close, no buffering, no gzip', () => {
    expect(directive('proxy_http_version')).toEqual(['1.1']);
    expect(directive('proxy_set_header')).toContain("Connection ''");
    expect(directive('proxy_buffering')).toEqual(['off']);
    expect(directive('proxy_cache')).toEqual(['off']);
    expect(directive('gzip')).toEqual(['off']);
  });

  it('waits far longer than the heartbeat interval before it gives up on a quiet stream', () => {
    const heartbeatSeconds = 15; // SSE_HEARTBEAT_MS default, services/api/src/config.ts
    expect(directive('proxy_read_timeout').map(seconds)).toEqual([expect.any(Number)]);
    expect(seconds(directive('proxy_read_timeout')[0] ?? '')).toBeGreaterThan(4 * heartbeatSeconds);
    expect(seconds(directive('proxy_send_timeout')[0] ?? '')).toBeGreaterThan(4 * heartbeatSeconds);
  });
});

describe('the tracing profile', () => {
  it('adds Jaeger, and nothing else, under the tracing profile, listening for OTLP/HTTP on 4318 beyond its own container', () => {
    const profiled = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('tracing')).map(([n]) => n);
    expect(profiled).toEqual(['jaeger']);
    const jaeger = compose.services.jaeger;
    expect(jaeger?.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(jaeger?.environment?.JAEGER_LISTEN_HOST).toBe('0.0.0.0');
    expect((jaeger as { expose?: string[] } | undefined)?.expose).toContain('4318');
    expect(jaeger?.ports).toEqual(['16686:16686']);
  });

  it('passes OTEL_EXPORTER_OTLP_ENDPOINT through to the api, the worker and the metrics service, unset unless the shell sets it', () => {
    for (const name of ['api', 'worker', 'metrics']) {
      const environment = compose.services[name]?.environment ?? {};
      expect(Object.keys(environment)).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
      expect(environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBeNull();
    }
  });
});

describe('the monitoring profile', () => {
  const prometheus = compose.services.prometheus;
  const configFile = /--config\.file=\/etc\/prometheus\/(\S+)/.exec([prometheus?.command ?? []].flat().join(' '))?.[1] ?? '';
  const readConfig = () =>
    parse(readFileSync(join(root, 'deploy', 'prometheus', configFile), 'utf8')) as {
      rule_files?: string[];
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; type?: string; port?: number }[];
      }[];
    };

  it('adds Prometheus and Grafana, and nothing else, under the monitoring profile', () => {
    const profiled = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('monitoring')).map(([n]) => n);
    expect(profiled.sort()).toEqual(['grafana', 'prometheus']);
    expect(prometheus?.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(configFile).not.toBe('');
  });

  it('loads deploy/prometheus/alerts.yml as its rules', () => {
    const rules = (readConfig().rule_files ?? []).map((file) => file.replace(/^\/etc\/prometheus\//, ''));
    expect(rules).toContain('alerts.yml');
    expect(existsSync(join(root, 'deploy', 'prometheus', 'alerts.yml'))).toBe(true);
  });

  it('scrapes every replica of the api and the worker, and the metrics service, under the job names api, worker and metrics', () => {
    const jobs = new Map(readConfig().scrape_configs.map((job) => [job.job_name, job]));
    for (const [job, port] of [['api', 3000], ['worker', 9101]] as const) {
      // A static `api:3000` would reach one replica; DNS service discovery finds each of them.
      expect(jobs.get(job)?.dns_sd_configs).toEqual([expect.objectContaining({ names: [job], type: 'A', port })]);
    }
    const metrics = jobs.get('metrics');
    const targets = [...(metrics?.static_configs ?? []).flatMap((c) => c.targets), ...(metrics?.dns_sd_configs ?? []).flatMap((c) => c.names.map((n) => `${n}:${c.port}`))];
    expect(targets).toEqual(['metrics:9102']);
  });
});

describe('Dockerfile', () => {
  it.each(targets)('runs the %s target as a non-root user', (target) => {
    expect(chain(stages, target).length).toBeGreaterThan(0);
    const user = effective(stages, target, 'USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it.each(targets)('starts the %s target with an exec-form CMD, so node receives SIGTERM', (target) => {
    const cmd = effective(stages, target, 'CMD') ?? '';
    expect(cmd.startsWith('[')).toBe(true);
    expect(JSON.parse(cmd)).toEqual(['node', `services/${target}/dist/main.js`]);
  });

  it('gives the api a HEALTHCHECK on /healthz that needs no curl', () => {
    const healthcheck = effective(stages, 'api', 'HEALTHCHECK') ?? '';
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toContain('fetch(');
  });

  it('installs only production dependencies into the runtime images', () => {
    const isDevInstall = (stage: Stage) => stage.instructions.some((i) => /\bnpm ci\b(?![^&;]*--omit=dev)/.test(i));
    const copies = chain(stages, 'api').flatMap((stage) =>
      stage.instructions.flatMap((i) => {
        const copy = /^COPY\s+--from=(\S+)\s+(\S+)/i.exec(i);
        return copy ? [{ stage: stages.find((s) => s.name === copy[1]), source: copy[2] ?? '' }] : [];
      }),
    );
    const prodInstalls = copies.filter(({ stage }) =>
      stage?.instructions.some((i) => /\bnpm ci\b[^&;]*--omit=dev/.test(i)),
    );
    expect(prodInstalls.length).toBeGreaterThan(0);
    // A stage with dev dependencies may hand over build output, never its whole tree or node_modules.
    for (const { stage, source } of copies.filter((c) => c.stage && isDevInstall(c.stage))) {
      expect(`COPY --from=${stage?.name} ${source}`).not.toMatch(/ (\/app\/?|\S*node_modules\S*)$/);
    }
  });

  it.each(targets)('builds the %s target on a slim base image', (target) => {
    const base = chain(stages, target).at(-1)?.from ?? '';
    expect(base).toMatch(/^node:\d+-(bookworm-slim|slim|alpine)/);
  });

  it('keeps local installs and build output out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split(/\r?\n/);
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});
