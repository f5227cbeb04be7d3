import { z } from 'zod';

/** Bytes of an uncompressed P-256 public key (`p256dh`): 0x04, then x and y. */
export const PUSH_P256DH_BYTES = 65;
/** Bytes of a subscription's auth secret (`auth`). */
export const PUSH_AUTH_BYTES = 16;
/** Longest endpoint URL accepted; the push services' own are a few hundred characters. */
export const PUSH_ENDPOINT_MAX_LENGTH = 2_048;

/** Bytes a base64url string decodes to (this package runs in browsers too: no Buffer). */
function decodedLength(value: string): number {
  const digits = value.replace(/=+$/, '').length;
  return digits % 4 === 1 ? -1 : Math.floor((digits * 6) / 8);
}

/** A base64url string (padding allowed, as some browsers send it) that decodes to exactly `bytes` bytes. */
function base64urlOfBytes(bytes: number) {
  // 4 characters per 3 bytes, rounded up, plus at most two of padding: anything longer is refused before decoding.
  const maxLength = Math.ceil(bytes / 3) * 4;
  return z
    .string()
    .max(maxLength, `must be at most ${maxLength} characters`)
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
    .refine((value) => decodedLength(value) === bytes, `must decode to ${bytes} bytes`);
}

/** `POST /api/push/subscriptions`: the browser's `PushSubscription.toJSON()`. */
export const webPushSubscriptionRequestSchema = z.object({
  endpoint: z.string().min(1).max(PUSH_ENDPOINT_MAX_LENGTH, `must be at most ${PUSH_ENDPOINT_MAX_LENGTH} characters`),
  /** When the push service ends the subscription (ms since the epoch), or null. */
  expirationTime: z.number().int().nonnegative().nullable().optional(),
  keys: z.object({
    // An uncompressed point starts with the byte 0x04, whose top six bits are the digit `B`.
    p256dh: base64urlOfBytes(PUSH_P256DH_BYTES).refine((value) => value.startsWith('B'), 'must be an uncompressed P-256 point'),
    auth: base64urlOfBytes(PUSH_AUTH_BYTES),
  }),
});
export type WebPushSubscriptionRequest = z.infer<typeof webPushSubscriptionRequestSchema>;

/** `POST /api/push/subscriptions` from a React Native app: the token `expo-notifications` hands out. */
export const expoPushSubscriptionRequestSchema = z
  .object({
    expoPushToken: z
      .string()
      .max(256)
      .regex(/^Expo(nent)?PushToken\[[A-Za-z0-9_-]{1,200}\]$/, 'must look like ExponentPushToken[...]'),
  })
  .strict();
export type ExpoPushSubscriptionRequest = z.infer<typeof expoPushSubscriptionRequestSchema>;

/**
 * `POST /api/push/subscriptions` from an app that talks to Firebase Cloud Messaging itself: the
 * registration token of `@react-native-firebase/messaging` (`messaging().getToken()`).
 */
export const fcmPushSubscriptionRequestSchema = z
  .object({
    fcmToken: z
      .string()
      .min(32, 'must be an FCM registration token')
      .max(4_096)
      .regex(/^[A-Za-z0-9_:.-]+$/, 'must be an FCM registration token (letters, digits, _ - : .)'),
  })
  .strict();
export type FcmPushSubscriptionRequest = z.infer<typeof fcmPushSubscriptionRequestSchema>;

export const pushSubscriptionRequestSchema = z.union([expoPushSubscriptionRequestSchema, fcmPushSubscriptionRequestSchema, webPushSubscriptionRequestSchema]);
export type PushSubscriptionRequest = z.infer<typeof pushSubscriptionRequestSchema>;

/** Subscription ids: 22 base64url characters, derived from the user and the endpoint. */
export const pushSubscriptionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'is not a push subscription id');

export const pushSubscriptionKinds = ['web', 'expo', 'fcm'] as const;
export type PushSubscriptionKind = (typeof pushSubscriptionKinds)[number];

/** A subscription as the api shows it to its owner: never the keys or the whole endpoint (a capability URL). */
export const pushSubscriptionViewSchema = z.object({
  id: pushSubscriptionIdSchema,
  kind: z.enum(pushSubscriptionKinds),
  /** The push service's host (`fcm.googleapis.com` for a browser on Chrome or an FCM token), or `exp.host` for an Expo token. */
  host: z.string(),
  createdAt: z.string(),
});
export type PushSubscriptionView = z.infer<typeof pushSubscriptionViewSchema>;

/** `GET /api/push/subscriptions`. */
export const pushSubscriptionListSchema = z.object({
  items: z.array(pushSubscriptionViewSchema),
  /** PUSH_MAX_SUBSCRIPTIONS_PER_USER. */
  max: z.number().int(),
});
export type PushSubscriptionList = z.infer<typeof pushSubscriptionListSchema>;

/** `GET /api/push/vapid-public-key`: what `pushManager.subscribe({ applicationServerKey })` takes. */
export const vapidPublicKeyResponseSchema = z.object({ publicKey: z.string() });
export type VapidPublicKeyResponse = z.infer<typeof vapidPublicKeyResponseSchema>;

/**
 * What a device receives: small, so that it fits the 4 KB a push message may carry once encrypted;
 * the page fetches the rest with the user's token.
 */
export const pushPayloadSchema = z.object({
  title: z.string().max(120),
  body: z.string().max(400),
  /** The dashboard's path to open on a click (`/#/jobs/<id>`, `/#/inbox`). */
  url: z.string().max(512),
  jobId: z.string().optional(),
  /** `job.completed`, `job.failed` or `notification`. */
  kind: z.enum(['job.completed', 'job.failed', 'notification']),
  /** One notification per job or notification: a second delivery replaces the first on the device. */
  tag: z.string().max(128),
});
export type PushPayload = z.infer<typeof pushPayloadSchema>;
