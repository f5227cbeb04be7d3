import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** What the deploy tests share: rendering kustomizations, schema checks, PromQL and /metrics names. */

export const repoRoot = join(__dirname, '..', '..');

/** A Kubernetes object as rendered; fields are read through the helpers below. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Whether `kubectl` (with its built-in kustomize) is on the PATH. */
export function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Renders a kustomization directory with the real kustomize inside kubectl (`kubectl kustomize DIR`). */
export function kustomize(dir: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`kustomize output of ${dir}: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((obj): obj is K8sObject => obj !== null);
}

/**
 * Checks objects against their Kubernetes (or CRD) OpenAPI schemas from the kubernetes-models
 * packages: type and required-field errors, plus fields the schema does not declare (which the
 * packages' own `validate()` lets through). Returns the problems of all of them, empty when every
 * one is valid. The check runs in a Node process of its own (k8s-schema-check.mjs): the model
 * packages are ES modules that jest's loader cannot require.
 */
export function schemaProblems(objects: K8sObject | K8sObject[]): string[] {
  const list = Array.isArray(objects) ? objects : [objects];
  const out = execFileSync(process.execPath, [join(__dirname, 'k8s-schema-check.mjs')], { input: JSON.stringify(list), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return (JSON.parse(out) as string[][]).flat();
}

/** Reads a nested field: `at(obj, 'spec', 'template', 'spec')`. */
export function at(value: unknown, ...path: (string | number)[]): any {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

const PROMQL_KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'Inf', 'NaN',
]);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges, label lists of
 * `by`/`on`/... and Grafana variables are dropped first; what is left and is not a function, an
 * aggregation or a keyword is a metric name.
 */
export function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const index = match.index ?? 0;
    if (/[0-9.]/.test(bare[index - 1] ?? '')) continue; // the exponent or unit of a number
    if (bare.slice(index + name.length).trimStart().startsWith('(')) continue; // a function or aggregation
    if (PROMQL_KEYWORDS.has(name)) continue;
    names.add(name);
  }
  return [...names];
}

/**
 * The series names a `/metrics` page can produce: every sample's name, and for each `# TYPE`
 * the names its type implies (a histogram's `_bucket`, `_sum`, `_count`), so that a labelled
 * histogram nobody observed yet still counts.
 */
export function exposedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name = '', kind] = type;
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      else if (kind === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
      else names.add(name);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample?.[1]) names.add(sample[1]);
  }
  return names;
}

/** A free TCP port on 127.0.0.1 (for a service whose port cannot be 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface BuiltService {
  /** The port from the service's "... listening" log line. */
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `services/<name>/dist/main.js` (what the images run) as its own process with `env`, and
 * resolves with the port its "<listening>" log line names.
 */
export async function spawnBuilt(name: 'api' | 'worker' | 'metrics', env: Record<string, string>, listening: string): Promise<BuiltService> {
  const child = spawn(process.execPath, [join(repoRoot, 'services', name, 'dist', 'main.js')], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info', LOG_PRETTY: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.includes(`"msg":"${listening}"`)) continue;
        const found = /"port":(\d+)/.exec(line);
        if (found) resolve(Number(found[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`${name} exited before "${listening}":\n${out}`)));
    setTimeout(() => reject(new Error(`${name}: no "${listening}" after 20 s:\n${out}`)), 20_000).unref();
  });
  return {
    port,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Every environment variable the services' config schemas read (the shared ones in
 * packages/runtime and each service's own), so a deploy file cannot set a misspelled one.
 */
export function knownVariables(): Set<string> {
  const files = [
    'packages/runtime/src/config.ts',
    'packages/runtime/src/redis-env.ts',
    'packages/runtime/src/tracing.ts',
    ...['api', 'worker', 'metrics'].map((s) => `services/${s}/src/config.ts`),
    // The api's env shapes kept next to the code they configure.
    'services/api/src/auth/auth-config.ts',
    'services/api/src/limits/limits-config.ts',
    'services/api/src/http/dashboard-config.ts',
    // The shapes the api and the worker share.
    'packages/runtime/src/webhooks/settings.ts',
    'packages/runtime/src/push/push-config.ts',
  ];
  return new Set(files.flatMap((file) => [...readFileSync(join(repoRoot, file), 'utf8').matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] as string)));
}
