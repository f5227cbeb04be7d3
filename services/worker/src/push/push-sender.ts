import type { PushPayload } from '@jobstream/contracts';
import type { Logger, PushSubscriptions, StoredPushSubscription } from '@jobstream/runtime';
import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import { RejectedPushError, RetryablePushError, type PushTransport } from './push-transports.js';

/** One push to one device, as the dispatcher queues it. */
export interface PushJobData {
  userId: string;
  subscriptionId: string;
  payload: PushPayload;
  /** The feed entry it came from (part of the job id). */
  feedId: string;
}

/**
 * How a push ended: `sent`; `gone` (the push service no longer knows the device: the subscription
 * was removed); `retry` (5xx, 429, unreachable: tried again); `rejected` (another 4xx, a refused
 * address: dropped); `unsubscribed` (the device was deleted before the push went out).
 */
export type PushOutcome = 'sent' | 'gone' | 'retry' | 'rejected' | 'unsubscribed';

/**
 * Why a push was not sent at all: the user had a stream open (`online`), the user or the device
 * reached its per-minute limit (`rate_limited`, `device_rate_limited`), or the request for the
 * device was over PUSH_MAX_PAYLOAD_BYTES (`oversized`).
 */
export type PushSkipReason = 'online' | 'rate_limited' | 'device_rate_limited' | 'oversized';
export const pushSkipReasons: readonly PushSkipReason[] = ['online', 'rate_limited', 'device_rate_limited', 'oversized'];

export interface PushSenderOptions {
  subscriptions: PushSubscriptions;
  /** One per device kind; a kind without one (FCM not set up on this process) is rejected. */
  transports: Partial<Record<StoredPushSubscription['kind'], PushTransport>>;
  /** PUSH_MAX_PAYLOAD_BYTES: the most bytes of one device's request. */
  maxPayloadBytes: number;
  logger: Logger;
  /** Told of each attempt's outcome, with how long it took since the event was in the feed (s). */
  onOutcome?: (outcome: PushOutcome, kind: StoredPushSubscription['kind'], latencySeconds: number) => void;
  /** Told of each subscription removed because its push service said it is gone. */
  onRemoved?: (kind: StoredPushSubscription['kind']) => void;
  /** Told of each push refused before it went out (`oversized`). */
  onSkipped?: (reason: PushSkipReason) => void;
}

/** Milliseconds of a stream id (`1700000000000-0`). */
const msOfStreamId = (id: string): number => Number(id.split('-')[0]);

/** The push queue's processor: delivers one job's push to its device through the device's transport. */
export function createPushSender(options: PushSenderOptions): Processor<PushJobData> {
  const log = options.logger.child({ component: 'push-sender' });
  return async (job: Job<PushJobData>) => {
    const { userId, subscriptionId, payload, feedId } = job.data;
    // Read at send time: a device deleted or moved to another user since the push was queued gets nothing.
    const subscription = await options.subscriptions.get(userId, subscriptionId);
    const latency = (): number => Math.max(0, Date.now() - msOfStreamId(feedId)) / 1_000;
    if (!subscription) {
      options.onOutcome?.('unsubscribed', 'web', latency());
      return 'unsubscribed';
    }
    const { kind } = subscription;
    if (kind === 'web' && subscription.expirationTime && subscription.expirationTime <= Date.now()) {
      await options.subscriptions.remove(userId, subscriptionId);
      options.onRemoved?.(kind);
      options.onOutcome?.('gone', kind, latency());
      return 'gone';
    }
    try {
      const transport = options.transports[kind];
      if (!transport) throw new RejectedPushError(`no transport for ${kind} devices on this worker`, 0);
      const request = transport.encode(subscription, payload);
      const bytes = Buffer.byteLength(request.body);
      if (bytes > options.maxPayloadBytes) {
        options.onSkipped?.('oversized');
        log.warn({ userId, subscriptionId, kind, bytes, maxBytes: options.maxPayloadBytes }, 'push refused for this device: its request is over PUSH_MAX_PAYLOAD_BYTES');
        return 'oversized';
      }
      const outcome = await transport.send(request);
      if (outcome === 'gone') {
        await options.subscriptions.remove(userId, subscriptionId);
        options.onRemoved?.(kind);
        log.info({ userId, subscriptionId, kind }, 'push subscription removed: the push service no longer knows the device');
      }
      options.onOutcome?.(outcome, kind, latency());
      return outcome;
    } catch (err) {
      if (err instanceof RejectedPushError) {
        options.onOutcome?.('rejected', kind, latency());
        log.warn({ err, userId, subscriptionId, kind }, 'push rejected; not trying again');
        throw new UnrecoverableError(err.message);
      }
      options.onOutcome?.('retry', kind, latency());
      if (!(err instanceof RetryablePushError)) log.error({ err, userId, subscriptionId, kind }, 'push failed unexpectedly');
      throw err;
    }
  };
}
