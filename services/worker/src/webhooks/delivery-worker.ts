import {
  publishNotification,
  signingSecrets,
  webhookHeaders,
  webhookQueueName,
  WEBHOOK_BACKOFF_TYPE,
  type DeliveryJobData,
  type DeliveryLog,
  type DeliveryRecord,
  type JobstreamKeys,
  type Logger,
  type NotificationLimits,
  type QueueSettings,
  type RedisClient,
  type WebhookEndpointStore,
  type WebhookTargetPolicy,
} from '@jobstream/runtime';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { deliveryBackoffMs } from './delivery-backoff.js';
import { sendWebhook, type SendOutcome } from './send-webhook.js';

/** What the delivery worker reports, for the metrics. */
export interface DeliveryObserver {
  attempt(outcome: SendOutcome): void;
  dead(): void;
  endpointDisabled(): void;
}

export interface DeliveryWorkerOptions {
  /** For the BullMQ worker (a blocking connection of its own). */
  connection: RedisClient;
  /** For the log, the endpoints and the owner's notification. */
  redis: RedisClient;
  keys: JobstreamKeys;
  queue: Pick<QueueSettings, 'name' | 'prefix'>;
  endpoints: WebhookEndpointStore;
  log: DeliveryLog;
  policy: WebhookTargetPolicy;
  notificationLimits: NotificationLimits;
  /** Deliveries one process sends at once. */
  concurrency: number;
  timeoutMs: number;
  maxResponseBytes: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Dead deliveries in a row that turn an endpoint off (0: never). */
  disableAfterFailures: number;
  logger: Logger;
  observer?: DeliveryObserver | undefined;
}

/**
 * Sends the deliveries the dispatcher queued: one attempt per BullMQ attempt, signed at the time
 * it is sent (a fresh `webhook-timestamp`, the same `webhook-id`), each one written to the
 * endpoint's log. After the last attempt the delivery is dead; enough dead ones in a row turn the
 * endpoint off and tell its owner with a notification.
 */
export function createDeliveryWorker(options: DeliveryWorkerOptions): Worker<DeliveryJobData> {
  const log = options.logger.child({ component: 'webhook-delivery' });

  const write = async (record: DeliveryRecord): Promise<void> => {
    // A log entry trimmed away (or deleted with its endpoint) is not written back; the pending set still forgets it.
    if (!(await options.log.update(record))) await options.log.forgetPending(record.owner, record.id);
  };

  const giveUp = async (record: DeliveryRecord, error: string, statusCode: number | null): Promise<void> => {
    await write({ ...record, status: 'dead', lastError: error, lastStatusCode: statusCode, updatedAt: Date.now() });
    options.observer?.dead();
  };

  const process = async (job: Job<DeliveryJobData>): Promise<void> => {
    const data = job.data;
    const logged = await options.log.get(data.endpointId, data.deliveryId);
    const record: DeliveryRecord = logged ?? {
      id: data.deliveryId,
      endpointId: data.endpointId,
      owner: data.owner,
      eventType: data.eventType,
      status: 'pending',
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      responseTimeMs: null,
      createdAt: data.createdAt,
      updatedAt: data.createdAt,
      redeliveries: 0,
      body: data.body,
      ...(data.url !== undefined ? { url: data.url } : {}),
    };
    const endpoint = await options.endpoints.get(data.owner, data.endpointId);
    if (!endpoint || endpoint.disabledReason !== null) {
      await giveUp(record, endpoint ? 'the endpoint is disabled' : 'the endpoint was deleted', null);
      return;
    }
    const headers = webhookHeaders(data.deliveryId, data.body, signingSecrets(endpoint));
    const url = data.url ?? endpoint.url;
    const outcome = await sendWebhook(url, headers, data.body, options);
    options.observer?.attempt(outcome);
    const attempted: DeliveryRecord = {
      ...record,
      attempts: record.attempts + 1,
      lastStatusCode: outcome.statusCode ?? null,
      lastError: outcome.ok ? null : outcome.error,
      responseTimeMs: outcome.durationMs,
      updatedAt: Date.now(),
    };
    if (outcome.ok) {
      await write({ ...attempted, status: 'delivered' });
      await options.endpoints.recordSuccess(data.owner, data.endpointId);
      return;
    }
    const last = outcome.reason === 'refused' || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!last) {
      await write({ ...attempted, status: 'retrying' });
      throw new Error(outcome.error);
    }
    await write({ ...attempted, status: 'dead' });
    options.observer?.dead();
    await disableIfFailing(endpoint.id, endpoint.kind === 'callbacks' ? 'your job callbacks' : endpoint.url, data.owner);
    // A refused target stays refused: no retry. Otherwise this was the last attempt anyway.
    throw new UnrecoverableError(outcome.error);
  };

  const disableIfFailing = async (endpointId: string, url: string, owner: string): Promise<void> => {
    if (options.disableAfterFailures === 0) return;
    const reason = `${options.disableAfterFailures} deliveries in a row failed`;
    if (!(await options.endpoints.recordDeadDelivery(owner, endpointId, options.disableAfterFailures, reason))) return;
    options.observer?.endpointDisabled();
    log.warn({ owner, endpointId }, 'webhook endpoint disabled: it kept failing');
    await publishNotification(
      options.redis,
      options.keys,
      {
        userId: owner,
        type: 'webhook.disabled',
        title: 'Webhook endpoint disabled',
        message: `Deliveries to ${url.slice(0, 300)} kept failing (${reason}); it gets no more events until you register it again. Its delivery log shows why.`,
        priority: 'high',
        data: { endpointId, url: url.slice(0, 2_048) },
      },
      options.notificationLimits,
    ).catch((err: unknown) => log.warn({ err, owner, endpointId }, 'could not notify the owner of a disabled webhook endpoint'));
  };

  const worker = new Worker<DeliveryJobData>(webhookQueueName(options.queue), process, {
    connection: options.connection,
    prefix: options.queue.prefix,
    concurrency: options.concurrency,
    autorun: true,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string) =>
        type === WEBHOOK_BACKOFF_TYPE ? deliveryBackoffMs(attemptsMade, options.backoffBaseMs, options.backoffMaxMs) : 0,
    },
  });
  worker.on('error', (err) => log.warn({ err }, 'webhook delivery worker error'));
  return worker;
}
