import { withoutBidiControls } from '../ui/bidi.js';
import { createStore, type Store } from '../ui/store.js';

export type DesktopPermission = NotificationPermission | 'unsupported';

const DISMISSED_KEY = 'jobstream.desktop-prompt-dismissed';

/**
 * Browser notifications for when the tab is in the background. Permission is asked only when the
 * person presses the button (browsers penalize pages that ask on load, and it is rude); a refusal
 * is remembered by the browser and shown as such, never asked again.
 */
export class DesktopNotifier {
  readonly permission: Store<DesktopPermission>;
  /** The person said "not now" to the offer. */
  readonly dismissed: Store<boolean>;

  constructor() {
    this.permission = createStore<DesktopPermission>(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);
    let dismissed = false;
    try {
      dismissed = localStorage.getItem(DISMISSED_KEY) === '1';
    } catch {
      // Storage disabled: the offer shows again next time.
    }
    this.dismissed = createStore(dismissed);
  }

  async request(): Promise<void> {
    if (typeof Notification === 'undefined') return;
    try {
      this.permission.set(await Notification.requestPermission());
    } catch {
      this.permission.set(Notification.permission);
    }
  }

  dismiss(): void {
    this.dismissed.set(true);
    try {
      localStorage.setItem(DISMISSED_KEY, '1');
    } catch {
      // See the constructor.
    }
  }

  /**
   * Shows one when the page is hidden and notifications are allowed; otherwise the toast is enough.
   * A notification is plain text the page cannot isolate, so bidi controls are taken out of it.
   */
  notify(title: string, body: string, tag: string): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || document.visibilityState !== 'hidden') return;
    try {
      const notification = new Notification(withoutBidiControls(title), { body: withoutBidiControls(body), tag, icon: './favicon.svg' });
      notification.onclick = () => {
        window.focus();
        notification.close();
      };
    } catch {
      // Some platforms only allow notifications from a service worker: the toast still shows.
    }
  }
}
