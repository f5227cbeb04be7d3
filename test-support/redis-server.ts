import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import type { TestCertificates } from './tls-certs';

/** A free TCP port on loopback, as the OS hands it out. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RedisProcess {
  port: number;
  /** `redis://127.0.0.1:<port>`, or `rediss://` with TLS; never with the password in it. */
  url: string;
  /** The password and TLS options a client of this server needs (empty for a plain, open one). */
  clientOptions: RedisOptions;
  dir: string;
  process: ChildProcess;
  /** Stops the server (SIGKILL when `hard`), keeping its data dir for a restart. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and data dir (AOF, when enabled, brings the data back). */
  restart(): Promise<void>;
  /** Stops it and removes its data dir. */
  destroy(): Promise<void>;
}

export interface RedisProcessOptions {
  port?: number;
  appendOnly?: boolean;
  extraArgs?: string[];
  /** Clients must AUTH with this password (`requirepass`; `masterauth` too, for replicas and clusters). */
  password?: string;
  /**
   * Listen with TLS only (`--port 0 --tls-port <port>`), with this certificate; cluster buses and
   * replication use TLS too. Clients are not asked for certificates of their own.
   */
  tls?: Pick<TestCertificates, 'caFile' | 'ca' | 'certFile' | 'keyFile' | 'servername'>;
}

async function waitForPing(url: string, clientOptions: RedisOptions, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, { ...clientOptions, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') {
        client.disconnect();
        return;
      }
    } catch {
      client.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not answer within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Starts a throwaway `redis-server` on loopback. Needs `redis-server` on the PATH. */
export async function startRedisServer(options: RedisProcessOptions = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'jobstream-redis-'));
  const url = `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`;
  const clientOptions: RedisOptions = {
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.tls ? { tls: { ca: options.tls.ca, servername: options.tls.servername } } : {}),
  };
  const listen = options.tls
    ? [
        '--port', '0',
        '--tls-port', String(port),
        '--tls-cert-file', options.tls.certFile,
        '--tls-key-file', options.tls.keyFile,
        '--tls-ca-cert-file', options.tls.caFile,
        '--tls-auth-clients', 'no',
        '--tls-cluster', 'yes',
        '--tls-replication', 'yes',
      ]
    : ['--port', String(port)];
  const auth = options.password !== undefined ? ['--requirepass', options.password, '--masterauth', options.password] : [];
  const args = [
    ...listen,
    ...auth,
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', options.appendOnly ? 'yes' : 'no',
    '--appendfsync', 'always',
    '--maxmemory-policy', 'noeviction',
    ...(options.extraArgs ?? []),
  ];
  const launch = (): ChildProcess => {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    child.on('error', () => undefined);
    return child;
  };
  const handle: RedisProcess = {
    port,
    url,
    clientOptions,
    dir,
    process: launch(),
    async stop(hard = false) {
      const child = handle.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
    async restart() {
      await handle.stop();
      handle.process = launch();
      await waitForPing(url, clientOptions, 10_000);
    },
    async destroy() {
      await handle.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitForPing(url, clientOptions, 10_000);
  return handle;
}
