import { startServiceHost, type Logger } from '@jobstream/runtime';
import { Job, Worker } from 'bullmq';
import { listenForCancels } from './cancel/cancel-listener.js';
import { CancelRequests } from './cancel/cancel-requests.js';
import type { WorkerConfig } from './config.js';
import { createFlashcardsProvider } from './flashcards/create-provider.js';
import { createJobCatalog, type JobCatalog } from './jobs/index.js';
import { JobQuotas } from './limits/job-quotas.js';
import { createWorkerOperations, type WorkerOperations } from './metrics/worker-operations.js';
import { createProcessor } from './processor.js';
import { createPushMetrics } from './push/push-metrics.js';
import { startPushService, type PushService } from './push/push-service.js';
import { EventRelay } from './relay/event-relay.js';
import { startWebhookService, type WebhookService } from './webhooks/webhook-service.js';

export interface WorkerService {
  logger: Logger;
  relay: EventRelay | undefined;
  /** Push delivery; undefined while push is off (no VAPID keys). */
  push: PushService | undefined;
  worker: Worker;
  /** Webhook dispatch and delivery (WEBHOOKS_ENABLED). */
  webhooks: WebhookService | undefined;
  /** Circuit breaker, heartbeat, /metrics and Sentry. */
  operations: WorkerOperations;
  /** Stops taking jobs, waits for active ones (up to the shutdown timeout), closes connections. */
  close(): Promise<void>;
}

export interface WorkerServiceOptions {
  /**
   * Processors that take the place of the catalog's own for their job types (an embedding app's
   * own processor, a test's). Each still has its payload and its result checked. Default: none.
   */
  handlers?: Partial<JobCatalog>;
}

/** Starts a worker process's parts: the BullMQ worker running the catalog, and the event relay. */
export async function startWorkerService(config: WorkerConfig, logger?: Logger, options: WorkerServiceOptions = {}): Promise<WorkerService> {
  const host = await startServiceHost({
    service: 'worker',
    settings: config,
    logger,
    connectionNames: { command: 'jobstream:worker:command', blocking: 'jobstream:worker' },
    commandRole: 'blocking',
    // Pipelined automatically (on a single Redis): an attempt's end sends its quota updates
    // together, and the ends of the attempts running at once share writes.
    commandAutoPipelining: true,
  });
  const { logger: log, keys, command, blocking: workerConnection } = host;

  const abort = new AbortController();
  const operations = createWorkerOperations(config, { redis: command, keys, logger: log });
  const catalog = createJobCatalog({ flashcardsProvider: operations.wrapProvider(createFlashcardsProvider(config.flashcards)) }, options.handlers);
  const quotas = JobQuotas.anyOn(config.quotas)
    ? new JobQuotas({
        redis: command,
        keys,
        quotas: config.quotas,
        slotLeaseMs: config.lockDurationMs,
        retentionSeconds: config.queue.retentionSeconds,
        resultInlineMaxBytes: config.relay.resultInlineMaxBytes,
        // Only called from a job's attempt, so once the worker below exists.
        promote: async (jobId) => {
          const held = await Job.fromId(worker, jobId);
          await held?.promote();
        },
        logger: log,
      })
    : undefined;
  const worker = new Worker(
    config.queue.name,
    createProcessor({
      catalog,
      redis: command,
      eventsKey: keys.bullEvents,
      eventsMaxLen: config.queue.eventsStreamMaxLen,
      logger: log,
      signal: abort.signal,
      cancels: new CancelRequests(command, keys),
      quotas,
      onHeldBack: (jobId) => operations.jobHeldBack(jobId),
    }),
    {
      connection: workerConnection,
      prefix: config.queue.prefix,
      concurrency: config.concurrency,
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: config.maxStalledCount,
      autorun: true,
    },
  );
  worker.on('error', (err) => log.warn({ err }, 'worker error'));
  const cancels = listenForCancels(config.redis, keys.cancelChannel, worker, log);
  await cancels.ready;
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled; it goes back to waiting'));

  let relay: EventRelay | undefined;
  if (config.relay.enabled) {
    relay = new EventRelay({
      command,
      blocking: host.connect('blocking', 'jobstream:relay'),
      keys,
      limits: {
        feedMaxLen: config.queue.feedMaxLen,
        historyMaxLen: config.queue.historyMaxLen,
        retentionMs: config.queue.retentionSeconds * 1_000,
        channelMaxLen: config.notifications.streamMaxLen,
        channelRetentionMs: config.notifications.retentionSeconds * 1_000,
        historyPackMaxBytes: config.relay.historyPackMaxBytes,
      },
      batchSize: config.relay.batchSize,
      lockTtlMs: config.relay.lockTtlMs,
      resultInlineMaxBytes: config.relay.resultInlineMaxBytes,
      logger: log,
    });
    relay.start();
  }
  const webhooks = config.webhooks.enabled
    ? startWebhookService(config, { command, keys, logger: log, observer: operations.webhookObserver, onQueued: (outcome) => operations.webhookQueued(outcome) })
    : undefined;
  if (webhooks) operations.followWebhookDispatcher(() => webhooks.dispatcher.isLeader());
  // The gauge reads `push` at scrape time, after it is set.
  const pushMetrics = config.push.vapid ? createPushMetrics(operations.registry, () => push?.dispatcher.isLeader() ?? false) : undefined;
  const push = startPushService({
    settings: config.push,
    command,
    connect: (name) => host.connect('blocking', name),
    keys,
    queue: config.queue,
    logger: log,
    ...pushMetrics,
  });
  // No await since the worker was created: its first 'active' event cannot have been emitted yet.
  await operations.attach(worker, () => relay?.getStats());
  log.info({ queue: config.queue.name, concurrency: config.concurrency }, 'worker started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      log.info({ timeoutMs: config.shutdownTimeoutMs }, 'stopping: no new jobs, waiting for active ones');
      // worker.close() waits for active jobs with no limit of its own.
      const graceful = worker.close();
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), config.shutdownTimeoutMs).unref()),
      ]);
      if (timedOut) {
        log.warn('active jobs did not finish in time; they will be picked up again as stalled jobs');
        abort.abort();
        await worker.close(true);
      }
      quotas?.stop();
      await webhooks?.close(config.shutdownTimeoutMs);
      await cancels.close();
      await relay?.stop();
      await push?.close();
      await operations.close();
      await host.close();
    })();
    return closing;
  };

  return { logger: log, relay, push, worker, webhooks, operations, close };
}
