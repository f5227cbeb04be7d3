import { useState } from 'preact/hooks';
import type { LinkState, LinkStatus } from '../live/live-connection.js';
import { formatClock } from './format.js';
import { Isolated } from './isolated.js';
import { useTicker } from './store.js';

const LABELS: Record<LinkState, string> = {
  connecting: 'Connecting',
  live: 'Live',
  reconnecting: 'Reconnecting',
  polling: 'Polling',
  closed: 'Offline',
};

const EXPLANATIONS: Record<LinkState, string> = {
  connecting: 'Opening the live stream of your jobs and notifications.',
  live: 'Job events and notifications arrive as they happen, over one stream for this tab.',
  reconnecting: 'The live stream was interrupted. It reconnects by itself and resumes where it left off: no event is lost.',
  polling: 'The live stream keeps failing, so your unfinished jobs are polled every 2 s. The stream is still retried and takes over again when it works.',
  closed: 'Not connected.',
};

/**
 * Live / Reconnecting / Polling, with the detail (reason, failed attempts, next attempt, resume
 * point) on hover, keyboard focus or tap; Escape hides it (WCAG 1.4.13).
 */
export function ConnectionIndicator({ status }: { status: LinkStatus }) {
  const [open, setOpen] = useState(false);
  const now = useTicker(1_000, open && status.nextAttemptAt !== undefined);
  const label = LABELS[status.state];
  const inSeconds = status.nextAttemptAt !== undefined ? Math.max(0, Math.ceil((status.nextAttemptAt - now) / 1_000)) : undefined;
  return (
    <div
      class="conn"
      data-state={status.state}
      onMouseEnter={() => setOpen(true)}
      onMouseLeave={() => setOpen(false)}
      onKeyDown={(e) => {
        if (e.key === 'Escape') setOpen(false);
      }}
    >
      <button
        type="button"
        class="conn-button"
        data-testid="connection-indicator"
        aria-describedby="conn-detail"
        aria-expanded={open}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onClick={() => setOpen((o) => !o)}
      >
        <span class="conn-dot" aria-hidden="true" />
        <span class="conn-label">{label}</span>
      </button>
      <span class="visually-hidden" aria-live="polite">
        Connection: {label}
      </span>
      <div id="conn-detail" role="tooltip" class="conn-detail" hidden={!open}>
        <p>{EXPLANATIONS[status.state]}</p>
        <dl>
          <dt>Since</dt>
          <dd>{formatClock(new Date(status.since).toISOString())}</dd>
          {status.reason !== undefined && status.state !== 'live' && (
            <>
              <dt>Reason</dt>
              <dd>
                <Isolated text={status.reason} />
              </dd>
            </>
          )}
          {status.failures > 0 && (
            <>
              <dt>Failed attempts</dt>
              <dd>{status.failures}</dd>
            </>
          )}
          {inSeconds !== undefined && status.state !== 'live' && (
            <>
              <dt>Next attempt</dt>
              <dd>in {inSeconds} s</dd>
            </>
          )}
          {status.lastEventId !== undefined && (
            <>
              <dt>Resumes after</dt>
              <dd class="mono">
                <Isolated text={status.lastEventId} />
              </dd>
            </>
          )}
        </dl>
      </div>
    </div>
  );
}
