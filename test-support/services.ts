import { loadConfig as loadApiConfig, startApiServer, type ApiServer } from '@jobstream/api';
import { createLogger } from '@jobstream/runtime';
import { loadConfig as loadWorkerConfig, startWorkerService, type WorkerService } from '@jobstream/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const repoRoot = join(__dirname, '..');

/** The Redis the suite runs against (see global-setup). */
export function testRedisUrl(): string {
  const url = process.env.JOBSTREAM_TEST_REDIS_URL;
  if (!url) throw new Error('JOBSTREAM_TEST_REDIS_URL is not set; run the tests through jest');
  return url;
}

/** Environment for one test's services: its own queue prefix, fast stall detection, quiet logs. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: `{test-${randomUUID()}}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    SSE_HEARTBEAT_MS: '15000',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    RELAY_LOCK_TTL_MS: '1500',
    SHUTDOWN_TIMEOUT_MS: '2000',
    WORKER_SHUTDOWN_TIMEOUT_MS: '5000',
    ...overrides,
  };
}

const quiet = () => createLogger({ name: 'test', level: (process.env.TEST_LOG_LEVEL as 'info') ?? 'silent' });

export async function startApi(env: Record<string, string>): Promise<ApiServer & { url: string }> {
  const api = await startApiServer(loadApiConfig(env), quiet().child({ service: 'api' }));
  return Object.assign(api, { url: `http://127.0.0.1:${api.port}` });
}

export async function startWorker(env: Record<string, string>): Promise<WorkerService> {
  return startWorkerService(loadWorkerConfig(env), quiet().child({ service: 'worker' }));
}

/** Deletes every key of a test's prefix. */
export async function cleanupPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface ServiceProcess {
  child: ChildProcess;
  url?: string;
  /** stdout+stderr so far, for failure messages. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a built service (`services/<name>/dist/main.js`) as its own process; resolves when it is up. */
export async function spawnService(name: 'api' | 'worker', env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(repoRoot, 'services', name, 'dist', 'main.js')], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info', LOG_PRETTY: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string | undefined>((resolve, reject) => {
    const marker = name === 'api' ? /"port":(\d+).*api listening/ : /worker started/;
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
