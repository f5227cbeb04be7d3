import {
  createRedis,
  DeliveryLog,
  deliveryLogLimits,
  notificationLimitsFrom,
  WebhookEndpointStore,
  webhookQueueName,
  WebhookTargetPolicy,
  type DeliveryJobData,
  type JobstreamKeys,
  type Logger,
  type RedisClient,
} from '@jobstream/runtime';
import { Queue, type Worker } from 'bullmq';
import type { WorkerConfig } from '../config.js';
import { createDeliveryWorker, type DeliveryObserver } from './delivery-worker.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

/** The webhook parts of a worker process: the dispatcher (one process at a time) and the delivery worker. */
export interface WebhookService {
  dispatcher: WebhookDispatcher;
  deliveries: Worker<DeliveryJobData>;
  /** Stops dispatching, lets deliveries under way finish (up to `timeoutMs`), closes the connections. */
  close(timeoutMs: number): Promise<void>;
}

export function startWebhookService(
  config: WorkerConfig,
  deps: { command: RedisClient; keys: JobstreamKeys; logger: Logger; observer?: DeliveryObserver; onQueued?: (outcome: 'queued' | 'over_cap') => void },
): WebhookService {
  const { command, keys, logger } = deps;
  const blocking = createRedis(config.redis, { role: 'blocking', logger, connectionName: 'jobstream:webhooks:feed' });
  const workerConnection = createRedis(config.redis, { role: 'blocking', logger, connectionName: 'jobstream:webhooks' });
  const endpoints = new WebhookEndpointStore(command, keys);
  const log = new DeliveryLog(command, keys, deliveryLogLimits(config.webhooks));
  // BullMQ's own connection, not the command one: BullMQ defines its scripts as commands on the
  // connection it gets, and the command connection pipelines every turn (see createRedis).
  const queue = new Queue<DeliveryJobData>(webhookQueueName(config.queue), { connection: workerConnection, prefix: config.queue.prefix });
  queue.on('error', (err) => logger.warn({ err }, 'webhook queue error'));
  const dispatcher = new WebhookDispatcher({
    command,
    blocking,
    keys,
    queue,
    endpoints,
    log,
    settings: config.webhooks,
    batchSize: config.relay.batchSize,
    lockTtlMs: config.relay.lockTtlMs,
    logger,
    onQueued: deps.onQueued,
  });
  const deliveries = createDeliveryWorker({
    connection: workerConnection,
    redis: command,
    keys,
    queue: config.queue,
    endpoints,
    log,
    policy: new WebhookTargetPolicy(config.webhooks.allowedHosts),
    notificationLimits: notificationLimitsFrom(config.notifications, config.queue),
    concurrency: config.webhooks.concurrency,
    timeoutMs: config.webhooks.timeoutMs,
    maxResponseBytes: config.webhooks.responseMaxBytes,
    backoffBaseMs: config.webhooks.backoffBaseMs,
    backoffMaxMs: config.webhooks.backoffMaxMs,
    disableAfterFailures: config.webhooks.disableAfterFailures,
    logger,
    observer: deps.observer,
  });
  dispatcher.start();

  return {
    dispatcher,
    deliveries,
    async close(timeoutMs) {
      await dispatcher.stop();
      // An attempt is bounded by WEBHOOK_TIMEOUT_MS; one cut off here is retried as a stalled job.
      const timedOut = await Promise.race([
        deliveries.close().then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
      ]);
      if (timedOut) await deliveries.close(true);
      await queue.close().catch(() => undefined);
      await Promise.allSettled([blocking.quit(), workerConnection.quit()]);
    },
  };
}
