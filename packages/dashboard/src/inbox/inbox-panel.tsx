import type { Notification } from '@jobstream/contracts';
import { useEffect, useRef } from 'preact/hooks';
import { withoutBidiControls } from '../ui/bidi.js';
import { formatDateTime } from '../ui/format.js';
import { CloseIcon } from '../ui/icons.js';
import { Isolated } from '../ui/isolated.js';
import type { InboxModel, InboxState } from './inbox-model.js';

function Item({ item, onRead }: { item: Notification; onRead(): void }) {
  return (
    <li class={item.read ? 'inbox-item' : 'inbox-item unread'} data-severity={item.severity} data-testid="inbox-item">
      <div class="inbox-item-head">
        {!item.read && <span class="unread-dot" aria-hidden="true" />}
        <strong class="inbox-title">
          <Isolated text={item.title} />
        </strong>
        <time class="muted small" dateTime={item.createdAt}>
          {formatDateTime(item.createdAt)}
        </time>
      </div>
      <p class="inbox-message">
        <Isolated text={item.message} />
      </p>
      <div class="inbox-item-foot">
        {item.category !== null && <Isolated class="chip" text={item.category} />}
        <span class="visually-hidden">{item.read ? 'Read' : 'Unread'}</span>
        {!item.read && (
          <button type="button" class="button ghost small push-right" onClick={onRead} aria-label={`Mark read: ${withoutBidiControls(item.title)}`}>
            Mark read
          </button>
        )}
      </div>
    </li>
  );
}

/** The inbox, newest first: mark one or all read, load older pages. */
export function InboxPanel({ model, state, onClose }: { model: InboxModel; state: InboxState; onClose(): void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <div id="inbox-panel" class="inbox-panel" role="dialog" aria-labelledby="inbox-title">
      <div class="inbox-head">
        <h2 id="inbox-title" ref={heading} tabIndex={-1}>
          Notifications
        </h2>
        <span class="muted small" aria-live="polite">
          {state.unreadCount} unread
        </span>
        <button type="button" class="button ghost small push-right" disabled={state.unreadCount === 0} onClick={() => void model.markAllRead()}>
          Mark all read
        </button>
        <button type="button" class="icon-button" aria-label="Close notifications" onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      {state.error !== undefined && (
        <p class="notice error" role="alert">
          <Isolated text={state.error} />
        </p>
      )}
      {state.items.length === 0 ? (
        <p class="empty">{state.loading ? 'Loading…' : 'No notifications yet.'}</p>
      ) : (
        <ul class="inbox-list" aria-label="Notifications">
          {state.items.map((item) => (
            <Item key={item.id} item={item} onRead={() => void model.markRead(item.id)} />
          ))}
        </ul>
      )}
      {state.nextCursor !== null && (
        <div class="inbox-foot">
          <button type="button" class="button ghost small" disabled={state.loading} onClick={() => void model.loadMore()}>
            {state.loading ? 'Loading…' : 'Older notifications'}
          </button>
        </div>
      )}
    </div>
  );
}
