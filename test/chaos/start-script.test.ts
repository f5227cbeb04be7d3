import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { freePort, startRedisServer, type RedisProcess } from '../../test-support/redis-server';
import { repoRoot, testEnv } from '../../test-support/services';
import { waitUntil, withTimeout } from '../../test-support/wait';

const startScript = join(repoRoot, 'scripts', 'start.mjs');
const PORT_VARS = ['PORT', 'WORKER_METRICS_PORT', 'METRICS_PORT', 'METRICS_ADMIN_PORT'] as const;

/** Resolves true when nothing listens on 127.0.0.1:`port` (binding it succeeds). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Pids of live processes whose environment carries `marker` (every process a start spawned does). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'environ'), 'latin1').split('\0').includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

interface Stack {
  env: Record<string, string>;
  ports: number[];
  /** `QUEUE_PREFIX=...`: unique to this stack, found in the environment of each of its processes. */
  marker: string;
}

async function stackEnv(redis: RedisProcess): Promise<Stack> {
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env = {
    ...testEnv({ REDIS_URL: redis.url, HOST: '127.0.0.1', WORKER_METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'warn' }),
    ...Object.fromEntries(PORT_VARS.map((name, i) => [name, String(ports[i])])),
  };
  return { env, ports, marker: `QUEUE_PREFIX=${env.QUEUE_PREFIX}` };
}

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function launch(command: string, args: string[], stack: Stack): Started {
  const { JOBSTREAM_PARENT_PIPE: _inherited, ...base } = process.env;
  const child = spawn(command, args, { cwd: repoRoot, env: { ...base, ...stack.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Every port of the stack answers: api, worker and metrics have all started. */
async function waitUntilListening(stack: Stack, started: Started): Promise<void> {
  await waitUntil(
    `every service to listen on ${stack.ports.join(', ')}\n${started.output()}`,
    async () => (await Promise.all(stack.ports.map(portFree))).every((free) => !free),
    30_000,
    100,
  );
}

/** Every port free and no process of the stack left, within `ms`. */
async function waitUntilGone(stack: Stack, ms: number): Promise<number> {
  const from = Date.now();
  await waitUntil(
    `every port free and every process gone (left: ${processesWith(stack.marker).join(', ')})`,
    async () => (await Promise.all(stack.ports.map(portFree))).every(Boolean) && processesWith(stack.marker).length === 0,
    ms,
    50,
  );
  return Date.now() - from;
}

describe('npm start owns the services it starts', () => {
  let redis: RedisProcess;
  const stacks: Stack[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
  });

  afterAll(async () => {
    // Whatever a failed case left behind.
    for (const stack of stacks) for (const pid of processesWith(stack.marker)) process.kill(pid, 'SIGKILL');
    await redis?.destroy();
  });

  it.each(['SIGKILL', 'SIGTERM', 'SIGHUP'] as const)('stops every service within a few seconds when the start script gets %s', async (signal) => {
    const stack = await stackEnv(redis);
    stacks.push(stack);
    const started = launch(process.execPath, [startScript], stack);
    await waitUntilListening(stack, started);
    expect(processesWith(stack.marker)).toHaveLength(4);

    started.child.kill(signal);
    const tookMs = await waitUntilGone(stack, 5_000);
    process.stdout.write(`start script ${signal}: every port free and every service gone ${tookMs} ms later\n`);
  });

  it('stops every service when npm start itself gets SIGTERM (npm does not pass it on)', async () => {
    const stack = await stackEnv(redis);
    stacks.push(stack);
    // --ignore-scripts skips the prestart build (the suite builds first) and still runs start.
    const started = launch('npm', ['start', '--ignore-scripts'], stack);
    await waitUntilListening(stack, started);

    started.child.kill('SIGTERM');
    await withTimeout('npm to exit', started.exited, 5_000);
    const tookMs = await waitUntilGone(stack, 5_000);
    process.stdout.write(`npm start SIGTERM: every port free and every service gone ${tookMs} ms later\n`);
  });

  it('starts nothing while a port it needs is taken: exit 3, naming the port and what to do', async () => {
    const stack = await stackEnv(redis);
    stacks.push(stack);
    const metricsPort = stack.ports[2]!;
    // Another program on the metrics port: it accepts connections and hangs up.
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen({ port: metricsPort, host: '127.0.0.1' }, resolve));
    try {
      const started = launch(process.execPath, [startScript], stack);
      const code = await withTimeout('the start script to exit', started.exited, 10_000);
      expect(code).toBe(3);
      expect(started.output()).toContain(`port ${metricsPort} (metrics, METRICS_PORT) on 127.0.0.1 is in use`);
      expect(started.output()).toContain('another program holds it');
      expect(started.output()).toContain(`METRICS_PORT=${metricsPort + 100} npm start`);
      expect(started.output()).toContain('nothing was started');
      // The script has exited: anything it had spawned would still be running now.
      expect(processesWith(stack.marker)).toEqual([]);
      expect(await portFree(stack.ports[1]!)).toBe(true);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('names jobstream as the likely holder when a stack already runs on the ports', async () => {
    const stack = await stackEnv(redis);
    stacks.push(stack);
    const first = launch(process.execPath, [startScript], stack);
    await waitUntilListening(stack, first);
    const second = launch(process.execPath, [startScript], stack);
    expect(await withTimeout('the second start to exit', second.exited, 10_000)).toBe(3);
    expect(second.output()).toContain(`port ${stack.ports[0]} (api, PORT) on 127.0.0.1 is in use`);
    expect(second.output()).toContain('jobstream is already running here');
    // Only the first stack's start script and its three services.
    expect(processesWith(stack.marker)).toHaveLength(4);
    first.child.kill('SIGTERM');
    await waitUntilGone(stack, 5_000);
  });
});
