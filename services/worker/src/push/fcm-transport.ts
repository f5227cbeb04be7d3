import type { FcmSettings, PushSettings } from '@jobstream/runtime';
import { z } from 'zod';
import { GoogleAccessToken } from './google-access-token.js';
import { isUrgent, outcomeOf, posting, RetryablePushError, type PushTransport } from './push-transports.js';

/** FCM's error body (`google.rpc.Status`); `details[].errorCode` says what went wrong with the token. */
const fcmErrorSchema = z.object({
  error: z.object({
    status: z.string().optional(),
    details: z.array(z.object({ errorCode: z.string().optional() }).passthrough()).optional(),
  }),
});

/** The FcmError code of an answer (`UNREGISTERED`, `QUOTA_EXCEEDED`, ...), when it has one. */
function fcmErrorCode(body: string): string | undefined {
  try {
    const parsed = fcmErrorSchema.parse(JSON.parse(body));
    return parsed.error.details?.find((d) => d.errorCode)?.errorCode ?? parsed.error.status;
  } catch {
    return undefined;
  }
}

/**
 * Firebase Cloud Messaging HTTP v1 (React Native apps with `@react-native-firebase/messaging`):
 * `POST .../v1/projects/<id>/messages:send` with an OAuth2 bearer of the service account. A token
 * FCM reports `UNREGISTERED` (404) is gone; 429 and 5xx are tried again; a 401 drops the cached
 * bearer, so the next try gets a new one.
 */
export function fcmPushTransport(fcm: FcmSettings, settings: Pick<PushSettings, 'ttlSeconds' | 'timeoutMs' | 'allowedHosts'>): PushTransport {
  const account = fcm.serviceAccount;
  const bearer = account ? new GoogleAccessToken(account, fcm.tokenUrl, settings) : undefined;
  return {
    encode(subscription, payload) {
      if (subscription.kind !== 'fcm') throw new Error('fcmPushTransport delivers to FCM tokens only');
      // FCM's `data` takes strings only.
      const data: Record<string, string> = { url: payload.url, kind: payload.kind, tag: payload.tag, ...(payload.jobId ? { jobId: payload.jobId } : {}) };
      const message = {
        token: subscription.token,
        notification: { title: payload.title, body: payload.body },
        data,
        android: { priority: isUrgent(payload) ? 'high' : 'normal', ttl: `${settings.ttlSeconds}s`, collapse_key: payload.tag, notification: { tag: payload.tag } },
        apns: { headers: { 'apns-priority': isUrgent(payload) ? '10' : '5', 'apns-collapse-id': payload.tag.slice(0, 64) } },
      };
      return { url: fcm.sendUrl, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify({ message }) };
    },
    async send(request) {
      if (!bearer) throw new Error('FCM_SERVICE_ACCOUNT_JSON is unset: this process cannot deliver to FCM');
      const token = await bearer.get();
      const res = await posting({ ...request, headers: { ...request.headers, Authorization: `Bearer ${token}` } }, settings);
      if (res.status === 401) {
        bearer.invalidate(token);
        throw new RetryablePushError('FCM refused the access token (401): asking for a new one', 401);
      }
      if (res.status >= 200 && res.status < 300) return 'sent';
      if (fcmErrorCode(res.body) === 'UNREGISTERED') return 'gone';
      return outcomeOf(res, 'FCM');
    },
  };
}
