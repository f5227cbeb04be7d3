import type { PushSubscriptionList, PushSubscriptionRequest, PushSubscriptionView, VapidPublicKeyResponse } from './contract-types.js';
import type { RequestOptions } from './client.js';
import { isRecord, str, type ShapeCheck } from './http/shape-checks.js';
import type { Transport } from './http/transport.js';

const isSubscription: ShapeCheck<PushSubscriptionView> = (v): v is PushSubscriptionView =>
  isRecord(v) && str(v, 'id') && str(v, 'kind') && str(v, 'host') && str(v, 'createdAt');
const isSubscriptionList: ShapeCheck<PushSubscriptionList> = (v): v is PushSubscriptionList =>
  isRecord(v) && Array.isArray(v.items) && v.items.every(isSubscription) && typeof v.max === 'number';
const isVapidKey: ShapeCheck<VapidPublicKeyResponse> = (v): v is VapidPublicKeyResponse => isRecord(v) && str(v, 'publicKey');

/**
 * The caller's push devices: browsers (a `PushSubscription`) and React Native apps (an Expo push
 * token or an FCM registration token). Every call rejects with a NotFoundError `PUSH_NOT_CONFIGURED` when the api has no VAPID keys.
 */
export interface PushDevices {
  /** The key a page passes to `pushManager.subscribe({ applicationServerKey })` (`GET /api/push/vapid-public-key`). */
  vapidPublicKey(options?: RequestOptions): Promise<string>;
  /**
   * Registers a device (`POST /api/push/subscriptions`): `subscription.toJSON()` of a browser, or
   * `{ expoPushToken }`, or `{ fcmToken }`. The same device again is the same subscription.
   */
  register(device: PushSubscriptionRequest, options?: RequestOptions): Promise<PushSubscriptionView>;
  /** The caller's devices, oldest first, and how many they may have. */
  list(options?: RequestOptions): Promise<PushSubscriptionList>;
  /** Removes one (`DELETE /api/push/subscriptions/:id`); NotFoundError `PUSH_SUBSCRIPTION_NOT_FOUND` when it is not the caller's. */
  remove(subscriptionId: string, options?: RequestOptions): Promise<void>;
}

/** The push calls over one transport. */
export function createPushDevices(transport: Transport): PushDevices {
  const signalOf = (o: RequestOptions) => (o.signal ? { signal: o.signal } : {});
  return {
    vapidPublicKey: async (o = {}) =>
      (await transport.json('GET', '/api/push/vapid-public-key', { check: isVapidKey, expected: 'a { publicKey } answer', ...signalOf(o) })).publicKey,
    register: (device, o = {}) =>
      transport.json('POST', '/api/push/subscriptions', { body: device, check: isSubscription, expected: 'a push subscription', ...signalOf(o) }),
    list: (o = {}) => transport.json('GET', '/api/push/subscriptions', { check: isSubscriptionList, expected: 'a list of push subscriptions', ...signalOf(o) }),
    remove: async (id, o = {}) => {
      await transport.json('DELETE', `/api/push/subscriptions/${encodeURIComponent(id)}`, signalOf(o));
    },
  };
}
