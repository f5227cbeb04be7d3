import { useStore } from '../ui/store.js';
import type { DesktopNotifier } from './desktop-notifier.js';

/** Offers browser notifications once, politely, and says so plainly when the browser blocks them. */
export function DesktopPrompt({ notifier }: { notifier: DesktopNotifier }) {
  const permission = useStore(notifier.permission);
  const dismissed = useStore(notifier.dismissed);
  if (permission === 'unsupported') return null;
  if (permission === 'granted') {
    return <p class="muted small desktop-note">Browser notifications are on: you get one when a job finishes while this tab is in the background.</p>;
  }
  if (permission === 'denied') {
    return (
      <p class="muted small desktop-note" data-testid="desktop-denied">
        Browser notifications are blocked for this site. To get them when this tab is in the background, allow notifications in the browser's site
        settings; toasts still show here.
      </p>
    );
  }
  if (dismissed) return null;
  return (
    <section class="card desktop-offer" aria-labelledby="desktop-title">
      <h2 id="desktop-title">Notify me in the background</h2>
      <p class="muted small">Get a browser notification when a job finishes or fails while this tab is hidden.</p>
      <div class="button-row">
        <button type="button" class="button" onClick={() => void notifier.request()}>
          Turn on notifications
        </button>
        <button type="button" class="button ghost" onClick={() => notifier.dismiss()}>
          Not now
        </button>
      </div>
    </section>
  );
}
