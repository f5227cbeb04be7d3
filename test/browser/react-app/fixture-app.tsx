import { useInbox, useJob, useNotifications, useUnreadCount } from '@jobstream/react';
import { useEffect, useState, version } from 'react';

/** What the page shows; the test changes it through `window.reactFixture.show(...)`. */
export interface FixtureLayout {
  /** A `useJob` card per entry; the same id twice is two components on one job. */
  jobs: string[];
  /** How many `useNotifications()` panels. */
  notificationPanels: number;
  unreadBadge: boolean;
  inbox: boolean;
}

export interface FixtureControl {
  show(layout: Partial<FixtureLayout>): void;
  /** React's version in the bundle. */
  reactVersion: string;
  /** Each connection state a job card rendered, in order, per job id. */
  connectionLog: Record<string, string[]>;
}

declare global {
  interface Window {
    reactFixture?: FixtureControl;
  }
}

const emptyLayout: FixtureLayout = { jobs: [], notificationPanels: 0, unreadBadge: false, inbox: false };
const connectionLog: Record<string, string[]> = {};

function JobCard({ jobId, index }: { jobId: string; index: number }) {
  const job = useJob(jobId);
  useEffect(() => {
    // One card per job logs, so that two cards on one job do not log each state twice.
    if (index > 0) return;
    const log = (connectionLog[jobId] ??= []);
    if (log.at(-1) !== job.connection) log.push(job.connection);
  }, [jobId, index, job.connection]);
  return (
    <section
      className="job"
      data-job-id={jobId}
      data-index={index}
      data-state={job.state ?? ''}
      data-connection={job.connection}
      data-finished={String(job.finished)}
      data-watch-error={job.watchError?.code ?? ''}
    >
      <p className="progress">{job.progress === undefined ? '' : JSON.stringify(job.progress)}</p>
      <pre className="result">{job.result === undefined ? '' : JSON.stringify(job.result)}</pre>
      <ol className="events">
        {job.events.map((e) => (
          <li key={e.id} data-event-id={e.id}>
            {e.event === 'progress' ? `progress ${JSON.stringify(e.data.progress)}` : e.event}
          </li>
        ))}
      </ol>
    </section>
  );
}

function NotificationsPanel({ index }: { index: number }) {
  const { items, connection } = useNotifications();
  return (
    <ul className="notifications" data-panel={index} data-connection={connection}>
      {items.map((item) => (item.event === 'notification' ? <li key={item.id ?? item.data.id}>{item.data.title}</li> : null))}
    </ul>
  );
}

function UnreadBadge() {
  const count = useUnreadCount();
  return <output data-testid="unread">{count === undefined ? '' : String(count)}</output>;
}

function InboxPanel() {
  const inbox = useInbox();
  return (
    <section className="inbox" data-loading={String(inbox.loading)} data-unread={inbox.unreadCount ?? ''}>
      <button type="button" onClick={() => void inbox.markAllRead()}>
        Mark all read
      </button>
      <ul>
        {inbox.items.map((item) => (
          <li key={item.id} data-notification-id={item.id} data-read={String(item.read)}>
            <span>{item.title}</span>
            {item.read ? null : (
              <button type="button" onClick={() => void inbox.markRead(item.id)}>
                Mark read
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The app the browser tests drive: each part on or off, as the test says. */
export function FixtureApp() {
  const [layout, setLayout] = useState<FixtureLayout>(emptyLayout);
  useEffect(() => {
    window.reactFixture = { show: (change) => setLayout((current) => ({ ...current, ...change })), reactVersion: version, connectionLog };
  }, []);
  return (
    <main>
      {layout.jobs.map((jobId, index) => (
        <JobCard key={`${jobId}-${index}`} jobId={jobId} index={index} />
      ))}
      {Array.from({ length: layout.notificationPanels }, (_, index) => (
        <NotificationsPanel key={index} index={index} />
      ))}
      {layout.unreadBadge ? <UnreadBadge /> : null}
      {layout.inbox ? <InboxPanel /> : null}
    </main>
  );
}
