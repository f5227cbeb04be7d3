import type { PushPayload } from '@jobstream/contracts';
import type { PushSettings, StoredPushSubscription, VapidSettings } from '@jobstream/runtime';
import webpush from 'web-push';
import { z } from 'zod';
import { postPush, type PushResponse } from './push-request.js';

/** What became of one delivery attempt that did not throw. */
export type DeliveryOutcome = 'sent' | 'gone';

/** A delivery that may succeed later (5xx, 429, a network error): the push queue tries it again with backoff. */
export class RetryablePushError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RetryablePushError';
  }
}

/** A delivery that will never succeed as it is (a 4xx other than 404, 410 and 429): not tried again. */
export class RejectedPushError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'RejectedPushError';
  }
}

/** Delivers to one kind of device; Web Push and Expo have the same interface. */
export interface PushTransport {
  send(subscription: StoredPushSubscription, payload: PushPayload): Promise<DeliveryOutcome>;
}

/** The outcome of an answer every push service gives alike: 2xx sent, 404/410 gone, 429/5xx later, else rejected. */
function outcomeOf(res: PushResponse, service: string): DeliveryOutcome {
  if (res.status >= 200 && res.status < 300) return 'sent';
  if (res.status === 404 || res.status === 410) return 'gone';
  const detail = `${service} answered ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ''}`;
  if (res.status === 429 || res.status >= 500) throw new RetryablePushError(detail, res.status);
  throw new RejectedPushError(detail, res.status);
}

/** Network failures are worth another try; a refused address (EPUSHADDRESS) is not. */
async function posting(send: () => Promise<PushResponse>): Promise<PushResponse> {
  try {
    return await send();
  } catch (err) {
    if ((err as { code?: string }).code === 'EPUSHADDRESS') throw new RejectedPushError((err as Error).message, 0);
    throw new RetryablePushError(`push service unreachable: ${(err as Error).message}`);
  }
}

/** Web Push: the payload encrypted for the device (aes128gcm, RFC 8291) and signed for the push service (VAPID, RFC 8292). */
export function webPushTransport(vapid: VapidSettings, settings: Pick<PushSettings, 'ttlSeconds' | 'timeoutMs' | 'allowedHosts'>): PushTransport {
  return {
    async send(subscription, payload) {
      if (subscription.kind !== 'web') throw new Error('webPushTransport delivers to web subscriptions only');
      const details = webpush.generateRequestDetails({ endpoint: subscription.endpoint, keys: subscription.keys }, JSON.stringify(payload), {
        vapidDetails: vapid,
        TTL: settings.ttlSeconds,
        contentEncoding: 'aes128gcm',
        urgency: payload.kind === 'job.failed' ? 'high' : 'normal',
      });
      const res = await posting(() => postPush(details.endpoint, details.headers, details.body, settings));
      return outcomeOf(res, 'push service');
    },
  };
}

const expoTicketSchema = z.object({
  data: z.union([
    z.object({ status: z.literal('ok') }).passthrough(),
    z.object({ status: z.literal('error'), message: z.string().optional(), details: z.object({ error: z.string().optional() }).passthrough().optional() }),
  ]),
});

/** Expo push (React Native apps): Expo's send endpoint relays to APNs and FCM. */
export function expoPushTransport(settings: Pick<PushSettings, 'expo' | 'ttlSeconds' | 'timeoutMs' | 'allowedHosts'>): PushTransport {
  return {
    async send(subscription, payload) {
      if (subscription.kind !== 'expo') throw new Error('expoPushTransport delivers to Expo tokens only');
      const message = {
        to: subscription.token,
        title: payload.title,
        body: payload.body,
        data: { url: payload.url, kind: payload.kind, ...(payload.jobId ? { jobId: payload.jobId } : {}) },
        ttl: settings.ttlSeconds,
        priority: payload.kind === 'job.failed' ? 'high' : 'default',
        sound: 'default',
      };
      const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
      if (settings.expo.accessToken) headers.Authorization = `Bearer ${settings.expo.accessToken}`;
      const res = await posting(() => postPush(settings.expo.url, headers, JSON.stringify(message), settings));
      const outcome = outcomeOf(res, 'Expo');
      if (outcome === 'gone') throw new RejectedPushError(`Expo answered ${res.status}: check EXPO_PUSH_URL`, res.status);
      // Expo answers 200 with a ticket; a token that is no longer valid is a ticket error, not a status.
      let ticket: z.infer<typeof expoTicketSchema>;
      try {
        ticket = expoTicketSchema.parse(JSON.parse(res.body));
      } catch {
        throw new RetryablePushError('Expo answered 200 without a ticket');
      }
      if (ticket.data.status === 'ok') return 'sent';
      const error = ticket.data.details?.error;
      if (error === 'DeviceNotRegistered') return 'gone';
      if (error === 'MessageRateExceeded') throw new RetryablePushError('Expo: MessageRateExceeded', 429);
      throw new RejectedPushError(`Expo refused the message: ${error ?? ticket.data.message ?? 'unknown error'}`, 400);
    },
  };
}
