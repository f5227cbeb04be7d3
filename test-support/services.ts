import { loadConfig as loadApiConfig, startApiServer, type ApiServer } from '@jobstream/api';
import { createLogger, webhookQueueName, type Logger } from '@jobstream/runtime';
import { loadConfig as loadWorkerConfig, startWorkerService, type WorkerService, type WorkerServiceOptions } from '@jobstream/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { TEST_JWT_SECRET } from './auth';
import { prefixInSlots } from './redis-cluster';
import { freePort } from './redis-server';

export const repoRoot = join(__dirname, '..');

/** The Redis the suite runs against (see global-setup). */
export function testRedisUrl(): string {
  const url = process.env.JOBSTREAM_TEST_REDIS_URL;
  if (!url) throw new Error('JOBSTREAM_TEST_REDIS_URL is not set; run the tests through jest');
  return url;
}

/**
 * The masters of the Redis Cluster the suite runs against (`npm run test:cluster`, see
 * global-setup), or undefined on a single Redis.
 */
export function testClusterNodes(): string[] | undefined {
  const nodes = process.env.JOBSTREAM_TEST_CLUSTER_NODES;
  return nodes ? nodes.split(',') : undefined;
}

/** Environment for one test's services: its own queue prefix, fast stall detection, quiet logs. */
export type TestEnv = Record<string, string> & { QUEUE_PREFIX: string; REDIS_URL: string };

/**
 * On the cluster run the services get `REDIS_CLUSTER_NODES` too, unless the test brings its own
 * Redis (`REDIS_URL` in `overrides`), and the prefix's hash tag is chosen so that the queue lives
 * on the master `testRedisUrl()` names: a test that inspects Redis with a plain client of that URL
 * then sees its keys instead of a MOVED error.
 */
export function testEnv(overrides: Record<string, string> = {}): TestEnv {
  const cluster = overrides.REDIS_URL === undefined ? testClusterNodes() : undefined;
  const slots = process.env.JOBSTREAM_TEST_CLUSTER_SLOTS?.split('-').map(Number) as [number, number] | undefined;
  return {
    REDIS_URL: overrides.REDIS_URL ?? testRedisUrl(),
    ...(cluster ? { REDIS_CLUSTER_NODES: cluster.join(',') } : {}),
    QUEUE_PREFIX: cluster && slots ? prefixInSlots(slots) : `{test-${randomUUID()}}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    SSE_HEARTBEAT_MS: '15000',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    RELAY_LOCK_TTL_MS: '1500',
    SHUTDOWN_TIMEOUT_MS: '2000',
    WORKER_SHUTDOWN_TIMEOUT_MS: '5000',
    // Several workers run at once in a test; a fixed metrics port would be taken.
    WORKER_METRICS_PORT: '0',
    AUTH_MODE: 'jwt',
    JWT_SECRET: TEST_JWT_SECRET,
    // Most tests act as one user with many jobs and streams; the limits' own tests set them low.
    RATE_LIMIT_ENQUEUE_POINTS: '1000000',
    MAX_STREAMS_PER_USER: '100000',
    MAX_ACTIVE_JOBS_PER_USER: '0',
    MAX_QUEUED_JOBS_PER_USER: '0',
    MAX_STORED_BYTES_PER_USER: '0',
    ...overrides,
  };
}

const quiet = () => createLogger({ name: 'test', level: (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent' });

export async function startApi(env: Record<string, string>): Promise<ApiServer & { url: string }> {
  const api = await startApiServer(loadApiConfig(env), quiet().child({ service: 'api' }));
  return Object.assign(api, { url: `http://127.0.0.1:${api.port}` });
}

/**
 * BullMQ's Queue writes its `meta` hash shortly after its connection is ready, not before
 * `startApi` returns. A test that snapshots the keys under its prefix waits for the api's queues'
 * meta hashes first (the jobs queue and the webhook delivery queue), so they are not taken for
 * keys written by the requests under test.
 */
export async function waitForApiQueueMetas(redis: Redis | Cluster, env: Record<string, string>): Promise<void> {
  const { queue } = loadApiConfig(env);
  const metas = [queue.name, webhookQueueName(queue)].map((name) => `${queue.prefix}:${name}:meta`);
  const deadline = Date.now() + 10_000;
  while ((await Promise.all(metas.map((key) => redis.exists(key)))).some((found) => found === 0)) {
    if (Date.now() > deadline) throw new Error(`the api's queue meta hashes were never written (${metas.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A worker in this process; its logs go to `options.logger` when one is given (see `logSink`),
 * else nowhere. `options.handlers` replaces the processors of named job types.
 */
export async function startWorker(env: Record<string, string>, options: WorkerServiceOptions & { logger?: Logger } = {}): Promise<WorkerService> {
  const { logger = quiet().child({ service: 'worker' }), ...serviceOptions } = options;
  return startWorkerService(loadWorkerConfig(env), logger, serviceOptions);
}

/** A client of the suite's Redis: a Cluster client on the cluster run. The caller disconnects it. */
export function testRedisClient(): Redis | Cluster {
  const cluster = testClusterNodes();
  if (!cluster) return new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  return new Cluster(
    cluster.map((node) => ({ host: node.split(':')[0] ?? '127.0.0.1', port: Number(node.split(':')[1]) })),
    { redisOptions: { maxRetriesPerRequest: 1 } },
  );
}

/** Deletes every key of a test's prefix; on a cluster, SCAN runs on every master (it only sees its own keys). */
export async function cleanupPrefix(redisUrl: string, prefix: string): Promise<void> {
  const client = redisUrl === process.env.JOBSTREAM_TEST_REDIS_URL ? testRedisClient() : new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const nodes = client instanceof Cluster ? (await waitForSlots(client), client.nodes('master')) : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        // One key per UNLINK: a prefix without a hash tag spreads its keys over several slots.
        if (keys.length > 0) await Promise.all(keys.map((key) => node.unlink(key)));
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}

/** A new Cluster client knows its masters only after it loaded the slot map. */
async function waitForSlots(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cluster client not ready (status ${cluster.status})`)), 10_000);
    cluster.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  url?: string;
  /** stdout+stderr so far, for failure messages. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export type ServiceName = 'api' | 'worker' | 'metrics';

/** `services/<name>/dist/main.js` as a child process, logging JSON lines at info to its pipes. */
function spawnBuilt(name: ServiceName, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [join(repoRoot, 'services', name, 'dist', 'main.js')], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info', LOG_PRETTY: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** What a service process that ended on its own left behind (see `runServiceToExit`). */
export interface ServiceExit {
  code: number | null;
  /** stdout+stderr. */
  output: string;
  /** From the spawn to the exit. */
  elapsedMs: number;
}

/**
 * Runs a built service that is expected to fail its start, and resolves once it exited; rejects
 * (after killing it) when it is still running after `timeoutMs`.
 */
export async function runServiceToExit(name: ServiceName, env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceExit> {
  const started = Date.now();
  const child = spawnBuilt(name, env);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} still running after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, elapsedMs: Date.now() - started });
    });
  });
}

const READY_MARKER: Record<ServiceName, RegExp> = {
  api: /"port":(\d+).*api listening/,
  worker: /worker started/,
  metrics: /"port":(\d+).*metrics listening/,
};

/** Starts a built service (`services/<name>/dist/main.js`) as its own process; resolves when it is up. */
export async function spawnService(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawnBuilt(name, env);
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string | undefined>((resolve, reject) => {
    const marker = READY_MARKER[name];
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = marker.exec(out);
      if (match) resolve(match[1] ? `http://127.0.0.1:${match[1]}` : undefined);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`)));
    setTimeout(() => reject(new Error(`${name} not ready after 20 s:\n${out}`)), 20_000).unref();
  });
  const url = await ready;
  return {
    child,
    ...(url ? { url } : {}),
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** An api and a worker on one test prefix, started before a describe block's tests and stopped after them. */
export interface TestStack {
  readonly env: TestEnv;
  readonly api: ApiServer & { url: string };
  readonly worker: WorkerService;
}

/**
 * Starts an api and a worker (with `overrides` on the test environment) in `beforeAll` and stops
 * them, and deletes the prefix's keys, in `afterAll`; the fields are there once `beforeAll` ran.
 */
export function useApiAndWorker(overrides: Record<string, string> = {}): TestStack {
  const stack = {} as { env: TestEnv; api: ApiServer & { url: string }; worker: WorkerService };
  beforeAll(async () => {
    stack.env = testEnv(overrides);
    stack.api = await startApi(stack.env);
    stack.worker = await startWorker(stack.env);
  });
  afterAll(async () => {
    await stack.worker?.close();
    await stack.api?.close();
    if (stack.env) await cleanupPrefix(testRedisUrl(), stack.env.QUEUE_PREFIX);
  });
  return stack;
}

/** Api and worker processes a test kills and restarts (see `useRestartableStack`). */
export interface RestartableStack {
  readonly env: TestEnv;
  /** Spawns an api on a free port and a worker; `base` is the api's URL. */
  start(): Promise<{ api: ServiceProcess; base: string }>;
  /** Spawns a new api process on the port of the first. */
  restartApi(): Promise<void>;
}

/**
 * Api and worker processes for a test that kills the api and starts it again on the same port;
 * every process it started is killed, and the prefix's keys deleted, after the describe block.
 */
export function useRestartableStack(overrides: Record<string, string> = {}): RestartableStack {
  const env = testEnv(overrides);
  const started: ServiceProcess[] = [];
  let port = '';
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop('SIGKILL')));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });
  return {
    env,
    async start() {
      port = String(await freePort());
      const api = await spawnService('api', { ...env, PORT: port });
      started.push(api, await spawnService('worker', env));
      return { api, base: api.url! };
    },
    async restartApi() {
      started.push(await spawnService('api', { ...env, PORT: port }));
    },
  };
}
