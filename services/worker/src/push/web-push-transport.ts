import type { PushSettings, VapidSettings } from '@jobstream/runtime';
import webpush from 'web-push';
import { isUrgent, outcomeOf, posting, type PushTransport } from './push-transports.js';

/** Web Push: the payload encrypted for the device (aes128gcm, RFC 8291) and signed for the push service (VAPID, RFC 8292). */
export function webPushTransport(vapid: VapidSettings, settings: Pick<PushSettings, 'ttlSeconds' | 'timeoutMs' | 'allowedHosts'>): PushTransport {
  return {
    encode(subscription, payload) {
      if (subscription.kind !== 'web') throw new Error('webPushTransport delivers to web subscriptions only');
      const details = webpush.generateRequestDetails({ endpoint: subscription.endpoint, keys: subscription.keys }, JSON.stringify(payload), {
        vapidDetails: vapid,
        TTL: settings.ttlSeconds,
        contentEncoding: 'aes128gcm',
        urgency: isUrgent(payload) ? 'high' : 'normal',
      });
      return { url: details.endpoint, headers: details.headers, body: details.body ?? '' };
    },
    async send(request) {
      return outcomeOf(await posting(request, settings), 'push service');
    },
  };
}
