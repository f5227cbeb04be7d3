import { useStore } from '../ui/store.js';
import type { WebPushModel } from './web-push.js';

/**
 * "Notify me when it finishes": offered under a job just submitted, when a notification about
 * it makes sense. Pressing it is what asks the browser for permission, never the page loading.
 */
export function PushOffer({ model }: { model: WebPushModel }) {
  const state = useStore(model.state);
  const error = useStore(model.error);
  if (state === 'unsupported' || state === 'unavailable') return null;
  if (state === 'on') {
    return (
      <p class="muted small push-note" data-testid="push-on">
        You get a notification when your jobs finish, even with this page closed.{' '}
        <button type="button" class="button ghost small" onClick={() => void model.disable()}>
          Stop
        </button>
      </p>
    );
  }
  if (state === 'denied') {
    return (
      <p class="muted small push-note" data-testid="push-denied">
        Notifications are blocked for this site; allow them in the browser's site settings to be told when a job finishes.
      </p>
    );
  }
  return (
    <div class="push-offer">
      <button type="button" class="button small" data-testid="push-offer" disabled={state === 'working'} onClick={() => void model.enable()}>
        {state === 'working' ? 'Turning on…' : 'Notify me when it finishes'}
      </button>
      {state === 'failed' && (
        <p class="muted small" role="alert" data-testid="push-failed">
          Could not turn on notifications{error ? `: ${error}` : ''}.
        </p>
      )}
    </div>
  );
}
