import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget } from './config.js';
import { defineRegisteredScripts } from './lua-scripts.js';

export type RedisClient = Redis | Cluster;

/**
 * What the connection is for:
 * - `command`: request/response work for an HTTP handler. Fails fast while Redis is away
 *   (no offline queue) so the handler can answer 503 instead of hanging.
 * - `blocking`: blocking reads and BullMQ workers. BullMQ requires `maxRetriesPerRequest: null`;
 *   commands wait for the reconnect instead of failing.
 */
export type RedisRole = 'command' | 'blocking';

export interface CreateRedisOptions {
  role: RedisRole;
  logger: Logger;
  /** Shown in `CLIENT LIST`; default `jobstream:<role>`. */
  connectionName?: string;
  /**
   * Send the commands issued during one turn of the event loop as one pipeline (one socket write
   * instead of one per command). Default: on for `command` connections to a single Redis, which
   * serve many requests at once; off for `blocking` ones (BullMQ's own connections and blocking
   * reads). Never on a cluster: while a master fails over, ioredis fails a whole pipeline with
   * errors that do not say Redis is away, where single commands are redirected or retried.
   */
  autoPipelining?: boolean;
}

const ERROR_LOG_INTERVAL_MS = 10_000;

/** The one Redis factory: a single node from `url`, or a cluster from `clusterNodes`. */
export function createRedis(target: RedisTarget, options: CreateRedisOptions): RedisClient {
  const name = options.connectionName ?? `jobstream:${options.role}`;
  const base: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: options.role === 'blocking' ? null : 1,
    enableOfflineQueue: options.role === 'blocking',
    // Reconnect forever, backing off to 2 s: a service must outlive a Redis restart.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    ...(options.role === 'command' ? { commandTimeout: 5_000 } : {}),
    enableAutoPipelining: !target.clusterNodes?.length && (options.autoPipelining ?? options.role === 'command'),
  };
  const client: RedisClient = target.clusterNodes?.length
    ? new Cluster(
        target.clusterNodes.map((node) => {
          const [host, port] = node.split(':');
          return { host: host ?? '127.0.0.1', port: Number(port) };
        }),
        {
          redisOptions: base,
          enableOfflineQueue: base.enableOfflineQueue ?? true,
          clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
        },
      )
    : new Redis(target.url, base);

  defineRegisteredScripts(client);

  const log = options.logger.child({ redis: name });
  let lastLogged = 0;
  let suppressed = 0;
  client.on('error', (err: Error) => {
    // ioredis emits an error per reconnect attempt; log the first and then a summary at most every 10 s.
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    log.warn({ err, suppressed }, 'redis connection error');
    lastLogged = now;
    suppressed = 0;
  });
  client.on('ready', () => {
    if (lastLogged > 0) log.info('redis connection ready again');
  });
  return client;
}

/** Resolves once the client is connected, or rejects after `timeoutMs`. */
export async function waitForReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

const UNAVAILABLE_PATTERNS = [
  /Connection is closed/i,
  /enableOfflineQueue/i,
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/,
  /Command timed out/i,
  /max retries per request/i,
  /Cluster(All)?FailedError|Failed to refresh slots cache|CLUSTERDOWN|Too many Cluster redirections/i,
  /LOADING|MASTERDOWN|TRYAGAIN/,
];

/** True when an error means "Redis cannot be reached right now" rather than a bug. */
export function isRedisUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const text = `${err.name} ${err.message} ${(err as NodeJS.ErrnoException).code ?? ''}`;
  return UNAVAILABLE_PATTERNS.some((pattern) => pattern.test(text));
}
