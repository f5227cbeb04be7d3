import { join } from 'node:path';
import { spawnNode, waitForLog, type Spawned } from './processes.js';
import { benchAuthEnv, benchQuotaEnv } from './auth.js';

/** Repository root (bench/lib/ is two levels down). */
export const repoRoot = join(__dirname, '..', '..');
const probe = join(repoRoot, 'bench', 'lib', 'service-probe.cjs');

export interface ProbeReading {
  memory: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  fds: number;
  fdLimit: number;
}

export interface Service extends Spawned {
  /** Asks the process (through the preloaded probe) for its memory, after two full GCs when `gc`. */
  probe(gc?: boolean): Promise<ProbeReading>;
}

export interface ApiService extends Service {
  url: string;
}

let probeIds = 0;

function withProbe(spawned: Spawned): Service {
  return Object.assign(spawned, {
    probe(gc = false): Promise<ProbeReading> {
      const id = ++probeIds;
      return new Promise<ProbeReading>((resolve, reject) => {
        const timer = setTimeout(() => {
          spawned.child.off('message', onMessage);
          reject(new Error(`${spawned.name} did not answer the probe`));
        }, 30_000);
        const onMessage = (msg: { type?: string; id?: number } & ProbeReading): void => {
          if (msg?.type !== 'probe' || msg.id !== id) return;
          clearTimeout(timer);
          spawned.child.off('message', onMessage);
          resolve({ memory: msg.memory, cpu: msg.cpu, fds: msg.fds, fdLimit: msg.fdLimit });
        };
        spawned.child.on('message', onMessage);
        spawned.child.send({ type: 'probe', id, gc });
      });
    },
  });
}

export interface StartOptions {
  runDir: string;
  /** SSE_HEARTBEAT_MS for an api (only when set: otherwise the api's default). */
  sseHeartbeatMs?: number | undefined;
  env: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  tag: string;
}

const serviceEnv = (env: Record<string, string>): Record<string, string> => ({
  LOG_LEVEL: 'info',
  LOG_PRETTY: 'false',
  NODE_ENV: 'production',
  ...env,
});

/** Starts the real api (services/api/dist/main.js) on a free port; resolves once it listens. */
export async function startApi(options: StartOptions): Promise<ApiService> {
  const spawned = spawnNode({
    name: `api-${options.tag}`,
    nodeArgs: ['--expose-gc', '--require', probe, ...(options.nodeFlags ?? []), join(repoRoot, 'services', 'api', 'dist', 'main.js')],
    env: serviceEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      ...benchAuthEnv,
      ...(options.sseHeartbeatMs ? { SSE_HEARTBEAT_MS: String(options.sseHeartbeatMs) } : {}),
      ...options.env,
    }),
    logFile: join(options.runDir, `api-${options.tag}.log`),
    cwd: repoRoot,
    ipc: true,
  });
  const match = await waitForLog(spawned, /"port":(\d+)[^\n]*"msg":"api listening"/);
  return Object.assign(withProbe(spawned), { url: `http://127.0.0.1:${match[1]}` });
}

/** Starts the real worker (services/worker/dist/main.js, with its event relay); resolves once it runs. */
export async function startWorker(options: StartOptions): Promise<Service> {
  const spawned = spawnNode({
    name: `worker-${options.tag}`,
    nodeArgs: ['--require', probe, ...(options.nodeFlags ?? []), join(repoRoot, 'services', 'worker', 'dist', 'main.js')],
    env: serviceEnv({ ...benchQuotaEnv, ...options.env }),
    logFile: join(options.runDir, `worker-${options.tag}.log`),
    cwd: repoRoot,
    ipc: true,
  });
  await waitForLog(spawned, /"msg":"worker started"/);
  return withProbe(spawned);
}

/** Starts a plain BullMQ worker (bench/load/raw-worker.ts): no relay, no logging, same job. */
export async function startRawWorker(options: StartOptions & { redisUrl: string; prefix: string; concurrency: number }): Promise<Service> {
  const spawned = spawnNode({
    name: `raw-worker-${options.tag}`,
    nodeArgs: ['--require', probe, '--import', 'tsx', join(repoRoot, 'bench', 'load', 'raw-worker.ts')],
    env: {
      BENCH_REDIS_URL: options.redisUrl,
      BENCH_PREFIX: options.prefix,
      BENCH_CONCURRENCY: String(options.concurrency),
      ...options.env,
    },
    logFile: join(options.runDir, `raw-worker-${options.tag}.log`),
    cwd: repoRoot,
    ipc: true,
  });
  await waitForLog(spawned, /raw worker ready/);
  return withProbe(spawned);
}

/** Starts the bare node:http SSE server (bench/load/baseline-sse-server.ts) the capacity scenario compares with. */
export async function startBaselineServer(options: Omit<StartOptions, 'env'>): Promise<ApiService> {
  const spawned = spawnNode({
    name: `baseline-${options.tag}`,
    nodeArgs: ['--expose-gc', '--require', probe, '--import', 'tsx', join(repoRoot, 'bench', 'load', 'baseline-sse-server.ts')],
    env: {},
    logFile: join(options.runDir, `baseline-${options.tag}.log`),
    cwd: repoRoot,
    ipc: true,
  });
  const match = await waitForLog(spawned, /baseline listening port (\d+)/);
  return Object.assign(withProbe(spawned), { url: `http://127.0.0.1:${match[1]}` });
}

/** Starts the hand-built design's api (bench/load/handbuilt-api.ts) on a free port; its worker is `startRawWorker`. */
export async function startHandbuiltApi(
  options: Omit<StartOptions, 'env'> & { redisUrl: string; prefix: string; heartbeatMs: number },
): Promise<ApiService> {
  const spawned = spawnNode({
    name: `handbuilt-api-${options.tag}`,
    // tsx's CommonJS hook, not `--import tsx`: that one adds a loader thread, whose CPU profile would
    // be written under the same --cpu-prof-name and replace the main thread's.
    nodeArgs: ['--expose-gc', '--require', probe, '--require', 'tsx/cjs', ...(options.nodeFlags ?? []), join(repoRoot, 'bench', 'load', 'handbuilt-api.ts')],
    env: { NODE_ENV: 'production', BENCH_REDIS_URL: options.redisUrl, BENCH_PREFIX: options.prefix, BENCH_HEARTBEAT_MS: String(options.heartbeatMs) },
    logFile: join(options.runDir, `handbuilt-api-${options.tag}.log`),
    cwd: repoRoot,
    ipc: true,
  });
  const match = await waitForLog(spawned, /handbuilt api listening port (\d+)/);
  return Object.assign(withProbe(spawned), { url: `http://127.0.0.1:${match[1]}` });
}
