import { useEffect, useRef, useState } from 'preact/hooks';
import { BellIcon } from '../ui/icons.js';
import { InboxPanel } from './inbox-panel.js';
import type { InboxModel, InboxState } from './inbox-model.js';

/** The bell with the unread count; opens the inbox. Escape or a click elsewhere closes it and focus returns here. */
export function Bell({ model, state }: { model: InboxModel; state: InboxState }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    void model.load();
    const onPointer = (event: PointerEvent): void => {
      if (container.current && !container.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open, model]);

  const close = (): void => {
    setOpen(false);
    button.current?.focus();
  };
  const unread = state.unreadCount;
  return (
    <div
      class="bell"
      ref={container}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          close();
        }
      }}
    >
      <button
        type="button"
        ref={button}
        class="icon-button bell-button"
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-controls="inbox-panel"
        aria-label={`Notifications, ${unread} unread`}
        data-testid="bell"
        onClick={() => setOpen((o) => !o)}
      >
        <BellIcon />
        {unread > 0 && (
          <span class="badge" aria-hidden="true" data-testid="unread-badge">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && <InboxPanel model={model} state={state} onClose={close} />}
    </div>
  );
}
