import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { spawnProgram, type Spawned } from './processes.js';

/** A free loopback port, as the OS hands it out. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface BenchRedis {
  url: string;
  process: Spawned;
  version: string;
  /** Empties the bench's Redis between scenarios (it is the bench's own server, nothing else uses it). */
  flush(): Promise<void>;
}

async function flushAll(url: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await client.flushall();
  } finally {
    client.disconnect();
  }
}

/**
 * The bench's own redis-server on a free loopback port: nothing else shares it, so the numbers are
 * not disturbed, and it goes away with the bench. No persistence, `noeviction` as BullMQ requires.
 */
export async function startBenchRedis(runDir: string): Promise<BenchRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const proc = spawnProgram(
    'redis-server',
    'redis-server',
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', runDir,
      '--save', '',
      '--appendonly', 'no',
      '--maxmemory-policy', 'noeviction',
      '--maxclients', '10000',
    ],
    join(runDir, 'redis.log'),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const info = await client.info('server');
      client.disconnect();
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
      return { url, process: proc, version, flush: () => flushAll(url) };
    } catch {
      client.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer; see ${proc.logFile}`);
    await sleep(50);
  }
}
