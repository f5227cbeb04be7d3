import type { Logger } from 'pino';
import type { ServiceSettings } from './config.js';
import { jobstreamKeys, type JobstreamKeys } from './keys.js';
import { createLogger } from './logger.js';
import { createRedis, waitForReady, type CreateRedisOptions, type RedisClient, type RedisRole } from './redis.js';
import { flushSentry, initSentry } from './sentry.js';

export type ServiceName = 'api' | 'worker' | 'metrics';

export interface ServiceHostOptions {
  /** The `service` field of every log line and the `service` tag of every error report. */
  service: ServiceName;
  settings: ServiceSettings;
  /** Default: a logger made from the settings (LOG_LEVEL, LOG_PRETTY). Tests pass one that writes where they can read it. */
  logger?: Logger | undefined;
  /** `CLIENT LIST` names of the two connections. */
  connectionNames: { command: string; blocking: string };
  /**
   * Role of the command connection. Default `command` (fails fast: an HTTP handler answers 503).
   * The worker's is `blocking`: no request waits on it, so its commands wait out an outage instead.
   */
  commandRole?: RedisRole;
  /** Whether the command connection pipelines automatically (see CreateRedisOptions); default by its role. */
  commandAutoPipelining?: boolean;
  /** How long the start waits for Redis before it fails. Default 30 s. */
  readyTimeoutMs?: number;
}

/** What every service starts from: its logger, keys, two Redis connections and error reporting. */
export interface ServiceHost {
  readonly service: ServiceName;
  readonly logger: Logger;
  readonly keys: JobstreamKeys;
  /** Commands of handlers and background loops. */
  readonly command: RedisClient;
  /** Blocking reads (the feed) or the BullMQ worker's own connection. */
  readonly blocking: RedisClient;
  /** One more connection (a second blocking reader); it is closed with the host. */
  connect(role: RedisRole, connectionName: string, options?: Pick<CreateRedisOptions, 'autoPipelining'>): RedisClient;
  /**
   * A ready connection for BullMQ queues (fails fast like the command connection, pipelines
   * nothing). BullMQ defines its ~60 scripts as ioredis commands on the connection it gets, and
   * ioredis copies every defined command into each pipeline it makes: on the command connection,
   * which pipelines every turn of the event loop, that cost more than the commands themselves.
   */
  queueConnection(connectionName: string): Promise<RedisClient>;
  /** Closes every connection and sends queued error reports; called once the service stopped its parts. */
  close(): Promise<void>;
}

/**
 * Sets up what the api, the worker and the metrics service share, in this order: the logger,
 * error reporting, then Redis (tracing is per process: runService starts it). Resolves once both
 * connections are ready; a Redis that does not answer in time fails the start, with every
 * connection closed.
 */
export async function startServiceHost(options: ServiceHostOptions): Promise<ServiceHost> {
  const { service, settings } = options;
  const logger = options.logger ?? createLogger({ name: service, level: settings.logLevel, pretty: settings.logPretty });
  initSentry({ service, ...settings.sentry, logger });

  const connections: RedisClient[] = [];
  const connect = (role: RedisRole, connectionName: string, connectOptions: Pick<CreateRedisOptions, 'autoPipelining'> = {}): RedisClient => {
    const client = createRedis(settings.redis, { role, logger, connectionName, ...connectOptions });
    connections.push(client);
    return client;
  };
  const command = connect(options.commandRole ?? 'command', options.connectionNames.command, { autoPipelining: options.commandAutoPipelining });
  const blocking = connect('blocking', options.connectionNames.blocking);
  try {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    await Promise.all([waitForReady(command, timeoutMs, settings.redis), waitForReady(blocking, timeoutMs, settings.redis)]);
  } catch (err) {
    for (const client of connections) client.disconnect();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    service,
    logger,
    keys: jobstreamKeys(settings.queue),
    command,
    blocking,
    connect,
    async queueConnection(connectionName) {
      const client = connect('command', connectionName, { autoPipelining: false });
      await waitForReady(client, options.readyTimeoutMs ?? 30_000, settings.redis);
      return client;
    },
    close() {
      closing ??= Promise.allSettled([...connections.map((client) => client.quit()), flushSentry()]).then(() => undefined);
      return closing;
    },
  };
}
