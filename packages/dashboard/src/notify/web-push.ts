import { type JobstreamClient, type PushSubscriptionRequest } from '@jobstream/client';
import { createStore, type Store } from '../ui/store.js';

/**
 * `unsupported`: this browser has no service workers or Push API; `unavailable`: the api has no
 * VAPID keys (or did not answer when the page loaded); `off`: offered; `working`: being turned on
 * or off; `on`; `denied`: the browser blocks notifications for the site; `failed`: the browser's
 * push service refused (try again later).
 */
export type WebPushState = 'unsupported' | 'unavailable' | 'off' | 'working' | 'on' | 'denied' | 'failed';

/** The service worker that shows pushes: at the top of the dashboard, so its scope is all of it. */
const WORKER_URL = './push-worker.js';
const WORKER_SCOPE = './';

/** applicationServerKey wants bytes; the api hands out base64url. */
function bytesOf(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Push notifications for when no dashboard page is open. Nothing is asked on load: the page only
 * looks whether this browser is already subscribed. Permission is asked when the person presses
 * "Notify me when it finishes", the moment the question makes sense.
 */
export class WebPushModel {
  readonly state: Store<WebPushState>;
  readonly error: Store<string | undefined> = createStore<string | undefined>(undefined);
  private publicKey: string | undefined;
  /** This browser's subscription at the api, once registered. */
  private subscriptionId: string | undefined;

  constructor(private readonly client: JobstreamClient) {
    const supported = typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof window !== 'undefined' && 'PushManager' in window && typeof Notification !== 'undefined';
    // Offered only once the api said it has push: never a button that cannot work.
    this.state = createStore<WebPushState>(supported ? 'unavailable' : 'unsupported');
    if (supported) void this.look();
  }

  /** Whether the api offers push, and whether this browser already has a subscription (then it is registered again: keys may have changed). */
  private async look(): Promise<void> {
    try {
      this.publicKey = await this.client.push.vapidPublicKey();
    } catch {
      // PUSH_NOT_CONFIGURED, or the api not reachable now: nothing is offered on this page.
      return;
    }
    if (Notification.permission === 'denied') return this.state.set('denied');
    this.state.set('off');
    const registration = await navigator.serviceWorker.getRegistration(WORKER_SCOPE).catch(() => undefined);
    const subscription = await registration?.pushManager.getSubscription().catch(() => null);
    if (!subscription || Notification.permission !== 'granted') return;
    try {
      this.subscriptionId = (await this.client.push.register(subscription.toJSON() as PushSubscriptionRequest)).id;
      this.state.set('on');
    } catch {
      // Left as offered: pressing the button registers it again.
    }
  }

  /** Asks for permission (from a click), installs the service worker, subscribes and registers the subscription with the api. */
  async enable(): Promise<void> {
    this.state.set('working');
    this.error.set(undefined);
    const permission = await Notification.requestPermission().catch(() => Notification.permission);
    if (permission !== 'granted') return this.state.set(permission === 'denied' ? 'denied' : 'off');
    try {
      const publicKey = this.publicKey ?? (await this.client.push.vapidPublicKey());
      this.publicKey = publicKey;
      const registration = await navigator.serviceWorker.register(WORKER_URL, { scope: WORKER_SCOPE });
      await navigator.serviceWorker.ready;
      const subscription =
        (await registration.pushManager.getSubscription()) ??
        (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytesOf(publicKey) }));
      this.subscriptionId = (await this.client.push.register(subscription.toJSON() as PushSubscriptionRequest)).id;
      this.state.set('on');
    } catch (err) {
      this.error.set(err instanceof Error ? err.message : String(err));
      this.state.set('failed');
    }
  }

  /** Stops pushes to this browser: the subscription ends here and at the api. */
  async disable(): Promise<void> {
    this.state.set('working');
    try {
      const registration = await navigator.serviceWorker.getRegistration(WORKER_SCOPE);
      await (await registration?.pushManager.getSubscription())?.unsubscribe();
      if (this.subscriptionId) await this.client.push.remove(this.subscriptionId).catch(() => undefined);
      this.subscriptionId = undefined;
      this.state.set('off');
    } catch (err) {
      this.error.set(err instanceof Error ? err.message : String(err));
      this.state.set('failed');
    }
  }
}
