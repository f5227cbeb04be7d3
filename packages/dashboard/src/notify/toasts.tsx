import { withoutBidiControls } from '../ui/bidi.js';
import { CloseIcon } from '../ui/icons.js';
import { Isolated } from '../ui/isolated.js';
import { useStore } from '../ui/store.js';
import type { ToastModel } from './toast-model.js';

/**
 * The toast stack. The live region is always in the page (a region added together with its first
 * message is not announced by screen readers); hovering or focusing a toast keeps it.
 */
export function Toasts({ model }: { model: ToastModel }) {
  const toasts = useStore(model.toasts);
  return (
    <section class="toasts" aria-label="Job updates">
      <div aria-live="polite" aria-relevant="additions text" class="toast-stack">
        {toasts.map((toast) => (
          <div
            key={toast.id}
            class="toast"
            data-kind={toast.kind}
            data-testid="toast"
            onMouseEnter={() => model.hold(toast.id, true)}
            onMouseLeave={() => model.hold(toast.id, false)}
            onFocusIn={() => model.hold(toast.id, true)}
            onFocusOut={() => model.hold(toast.id, false)}
          >
            <div class="toast-text">
              <strong>
                <Isolated text={toast.title} />
              </strong>
              {toast.body !== undefined && (
                <p>
                  <Isolated text={toast.body} />
                </p>
              )}
            </div>
            <button type="button" class="icon-button" aria-label={`Dismiss: ${withoutBidiControls(toast.title)}`} onClick={() => model.dismiss(toast.id)}>
              <CloseIcon />
            </button>
          </div>
        ))}
      </div>
    </section>
  );
}
