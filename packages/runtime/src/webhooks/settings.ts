import type { WebhookEventType } from '@jobstream/contracts';
import { z } from 'zod';
import { intVar } from '../config.js';
import type { QueueSettings } from '../config.js';
import { WebhookTargetPolicy } from './target-policy.js';

/** The webhook variables the api (registration) and the worker (delivery) share: set them alike. */
export const webhookEnvShape = {
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .superRefine((entries, ctx) => {
      try {
        new WebhookTargetPolicy(entries);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  WEBHOOK_MAX_ENDPOINTS_PER_USER: intVar(10, 1, 1_000),
  WEBHOOK_MAX_PENDING_PER_USER: intVar(1_000, 1, 1_000_000),
  WEBHOOK_LOG_MAX_ENTRIES: intVar(200, 1, 10_000),
  WEBHOOK_LOG_RETENTION_SECONDS: intVar(604_800, 60),
  WEBHOOK_MAX_ATTEMPTS: intVar(10, 1, 100),
};

export type WebhookEnv = z.output<z.ZodObject<typeof webhookEnvShape>>;

export interface WebhookSettings {
  /** Host names and CIDRs webhooks may reach although they are private (WEBHOOK_ALLOWED_HOSTS). Default none. */
  allowedHosts: string[];
  /** Endpoints one user may register. Default 10. */
  maxEndpointsPerUser: number;
  /** Deliveries of one user not finished yet; beyond it new ones are logged dead. Default 1,000. */
  maxPendingPerUser: number;
  /** Deliveries kept in each endpoint's log. Default 200. */
  logMaxEntries: number;
  /** The delivery log expires this long after its last write. Default 7 days. */
  logRetentionSeconds: number;
  /** Attempts of one delivery before it is given up (dead). Default 10 (about 8.5 hours with the default backoff). */
  maxAttempts: number;
}

export function webhookSettingsFrom(env: WebhookEnv): WebhookSettings {
  return {
    allowedHosts: env.WEBHOOK_ALLOWED_HOSTS,
    maxEndpointsPerUser: env.WEBHOOK_MAX_ENDPOINTS_PER_USER,
    maxPendingPerUser: env.WEBHOOK_MAX_PENDING_PER_USER,
    logMaxEntries: env.WEBHOOK_LOG_MAX_ENTRIES,
    logRetentionSeconds: env.WEBHOOK_LOG_RETENTION_SECONDS,
    maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
  };
}

/** The BullMQ queue deliveries go through, next to the jobs' queue under the same prefix. */
export const webhookQueueName = (queue: Pick<QueueSettings, 'name'>): string => `${queue.name}-webhooks`;

/** What a delivery job carries: which delivery, for whom, and the body it signs. */
export interface DeliveryJobData {
  deliveryId: string;
  owner: string;
  endpointId: string;
  eventType: WebhookEventType;
  /** The payload's JSON, signed and sent as it is (also in the log, which may have trimmed it). */
  body: string;
  createdAt: number;
  /** A job's `callbackUrl`, when it goes there rather than to the endpoint's URL. */
  url?: string;
}

/** The delivery log's bounds from the settings (the api and the workers read and write the same log). */
export function deliveryLogLimits(settings: Pick<WebhookSettings, 'logMaxEntries' | 'maxPendingPerUser' | 'logRetentionSeconds'>) {
  return { maxEntries: settings.logMaxEntries, maxPending: settings.maxPendingPerUser, retentionMs: settings.logRetentionSeconds * 1_000 };
}

/** The backoff strategy's name: the worker computes each delay (exponential with jitter, see delivery-backoff.ts). */
export const WEBHOOK_BACKOFF_TYPE = 'webhook';

/**
 * Options of every delivery job, the dispatcher's and a redelivery's alike: its attempts, the
 * custom backoff, and kept as long as the log (a job id seen again within that time is not added twice).
 */
export function deliveryJobOptions(settings: Pick<WebhookSettings, 'maxAttempts' | 'logRetentionSeconds'>) {
  return {
    attempts: settings.maxAttempts,
    backoff: { type: WEBHOOK_BACKOFF_TYPE },
    removeOnComplete: { age: settings.logRetentionSeconds },
    removeOnFail: { age: settings.logRetentionSeconds },
  };
}
