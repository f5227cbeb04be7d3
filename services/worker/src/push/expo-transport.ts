import type { PushSettings } from '@jobstream/runtime';
import { z } from 'zod';
import { isUrgent, outcomeOf, posting, RejectedPushError, RetryablePushError, type PushTransport } from './push-transports.js';

const expoTicketSchema = z.object({
  data: z.union([
    z.object({ status: z.literal('ok') }).passthrough(),
    z.object({ status: z.literal('error'), message: z.string().optional(), details: z.object({ error: z.string().optional() }).passthrough().optional() }),
  ]),
});

/** Expo push (React Native apps using `expo-notifications`): Expo's send endpoint relays to APNs and FCM. */
export function expoPushTransport(settings: Pick<PushSettings, 'expo' | 'ttlSeconds' | 'timeoutMs' | 'allowedHosts'>): PushTransport {
  return {
    encode(subscription, payload) {
      if (subscription.kind !== 'expo') throw new Error('expoPushTransport delivers to Expo tokens only');
      const message = {
        to: subscription.token,
        title: payload.title,
        body: payload.body,
        data: { url: payload.url, kind: payload.kind, ...(payload.jobId ? { jobId: payload.jobId } : {}) },
        ttl: settings.ttlSeconds,
        priority: isUrgent(payload) ? 'high' : 'default',
        sound: 'default',
      };
      const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
      if (settings.expo.accessToken) headers.Authorization = `Bearer ${settings.expo.accessToken}`;
      return { url: settings.expo.url, headers, body: JSON.stringify(message) };
    },
    async send(request) {
      const res = await posting(request, settings);
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
