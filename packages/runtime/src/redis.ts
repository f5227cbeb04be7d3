import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { defineRegisteredScripts } from './lua-scripts.js';
import type { RedisTarget } from './redis-env.js';
import { redactRedisError, startFailureOf, startTimeoutHint } from './redis-start-errors.js';

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

/** Node's TLS options for the target, or undefined for plain TCP. */
function tlsOptionsOf(target: RedisTarget): ConnectionOptions | undefined {
  if (!target.tls) return undefined;
  return {
    ...(target.tls.ca ? { ca: target.tls.ca } : {}),
    ...(target.tls.servername ? { servername: target.tls.servername } : {}),
  };
}

/**
 * The one Redis factory: a single node from `url`, or a cluster from `clusterNodes`, with the
 * target's AUTH and TLS settings on every connection (every node of a cluster alike).
 */
export function createRedis(target: RedisTarget, options: CreateRedisOptions): RedisClient {
  const name = options.connectionName ?? `jobstream:${options.role}`;
  const tls = tlsOptionsOf(target);
  const base: RedisOptions = {
    connectionName: name,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(tls ? { tls } : {}),
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
          // With TLS the certificate names the host: keep the names as given instead of resolving
          // them to addresses first (ioredis's advice for ElastiCache and the like).
          ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
        },
      )
    : new Redis(target.url, base);

  defineRegisteredScripts(client);

  const log = options.logger.child({ redis: name });
  let lastLogged = 0;
  let suppressed = 0;
  if (client instanceof Cluster) client.on('node error', (err: unknown) => redactRedisError(err));
  client.on('error', (err: Error) => {
    redactRedisError(err);
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

/**
 * The error one seed node of a cluster answers a connection with the target's settings with, if
 * any. ioredis loads a cluster's slot map through connections whose errors it drops: all the
 * cluster client reports is "Failed to refresh slots cache", whatever the cause (a certificate
 * not trusted, a name not matched); a plain connection to one node tells which.
 */
async function probeSeedNode(target: RedisTarget): Promise<unknown> {
  const [host, port] = (target.clusterNodes?.[0] ?? '').split(':');
  const tls = tlsOptionsOf(target);
  const probe = new Redis({
    host: host ?? '127.0.0.1',
    port: Number(port),
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(tls ? { tls } : {}),
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let first: unknown;
  probe.on('error', (err: unknown) => (first ??= err));
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    first ??= err;
  } finally {
    probe.disconnect();
  }
  return first;
}

/**
 * Resolves once the client is connected, or rejects after `timeoutMs`, or at once on an error no
 * reconnect can cure (credentials refused, a certificate not trusted): a service then fails its
 * start with the reason instead of retrying it for the whole timeout. Pass the target for hints.
 */
export async function waitForReady(client: RedisClient, timeoutMs = 10_000, target?: RedisTarget): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    let probed = false;
    const timer = setTimeout(() => {
      cleanup();
      const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status}${last})${startTimeoutHint(lastError, Boolean(target?.tls))}`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: unknown): void => {
      redactRedisError(err);
      lastError = err;
      const reason = startFailureOf(err);
      if (reason !== undefined) {
        cleanup();
        reject(new Error(reason));
      } else if (target?.clusterNodes?.length && !probed && err instanceof Error && err.name === 'ClusterAllFailedError') {
        probed = true;
        void probeSeedNode(target).then((probeError) => {
          redactRedisError(probeError);
          const probed = startFailureOf(probeError);
          if (probed === undefined) return;
          cleanup();
          reject(new Error(probed));
        });
      }
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('node error', onError);
    };
    client.on('ready', onReady);
    client.on('error', onError);
    // A cluster reports a refused AUTH per node; its own `error` says only that the slots failed.
    client.on('node error', onError);
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
