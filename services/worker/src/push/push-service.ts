import type { PushSubscriptionKind } from '@jobstream/contracts';
import type { JobstreamKeys, Logger, PushSettings, RedisClient } from '@jobstream/runtime';
import { PushSubscriptions } from '@jobstream/runtime';
import { Queue, Worker } from 'bullmq';
import { PushDispatcher } from './push-dispatcher.js';
import { expoPushTransport } from './expo-transport.js';
import { fcmPushTransport } from './fcm-transport.js';
import { createPushSender, type PushJobData, type PushOutcome, type PushSkipReason } from './push-sender.js';
import { webPushTransport } from './web-push-transport.js';

export interface PushServiceOptions {
  settings: PushSettings;
  /** The worker's command connection (lease, cursor, subscriptions). */
  command: RedisClient;
  /** Makes the blocking connections the dispatcher and the push queue's worker need. */
  connect: (name: string) => RedisClient;
  keys: JobstreamKeys;
  queue: { name: string; prefix: string };
  logger: Logger;
  onOutcome?: (outcome: PushOutcome, kind: PushSubscriptionKind, latencySeconds: number) => void;
  onRemoved?: (kind: PushSubscriptionKind) => void;
  onSkipped?: (reason: PushSkipReason) => void;
  onGap?: () => void;
}

export interface PushService {
  dispatcher: PushDispatcher;
  queue: Queue<PushJobData>;
  close(): Promise<void>;
}

/** The push queue's name next to the job queue's: under the same prefix, so in the same cluster slot. */
export const pushQueueName = (jobQueue: string): string => `${jobQueue}-push`;

/** Starts push delivery in a worker process: the dispatcher (one process at a time) and the push queue's sender (every process). */
export function startPushService(options: PushServiceOptions): PushService | undefined {
  const { settings, keys, logger } = options;
  if (!settings.vapid) return undefined;
  const subscriptions = new PushSubscriptions(options.command, keys, settings.maxSubscriptionsPerUser);
  const name = pushQueueName(options.queue.name);
  const queue = new Queue<PushJobData>(name, {
    connection: options.connect('jobstream:push:queue'),
    prefix: options.queue.prefix,
    defaultJobOptions: {
      attempts: settings.attempts,
      backoff: { type: 'exponential', delay: settings.backoffMs },
      // Kept a day: a job id seen again in that time (a dispatcher that died before moving its cursor) is not pushed twice.
      removeOnComplete: { age: 86_400, count: 100_000 },
      removeOnFail: { age: 86_400, count: 100_000 },
    },
  });
  queue.on('error', (err) => logger.warn({ err }, 'push queue error'));
  const worker = new Worker<PushJobData>(
    name,
    createPushSender({
      subscriptions,
      transports: {
        web: webPushTransport(settings.vapid, settings),
        expo: expoPushTransport(settings),
        ...(settings.fcm ? { fcm: fcmPushTransport(settings.fcm, settings) } : {}),
      },
      maxPayloadBytes: settings.maxPayloadBytes,
      logger,
      onOutcome: options.onOutcome,
      onRemoved: options.onRemoved,
      onSkipped: options.onSkipped,
    }),
    { connection: options.connect('jobstream:push:worker'), prefix: options.queue.prefix, concurrency: settings.concurrency },
  );
  worker.on('error', (err) => logger.warn({ err }, 'push worker error'));
  const dispatcher = new PushDispatcher({
    command: options.command,
    blocking: options.connect('jobstream:push:feed'),
    keys,
    settings,
    subscriptions,
    queue,
    logger,
    onSkipped: options.onSkipped,
    onGap: options.onGap,
  });
  dispatcher.start();
  return {
    dispatcher,
    queue,
    async close() {
      await dispatcher.stop();
      await worker.close();
      await queue.close();
    },
  };
}
