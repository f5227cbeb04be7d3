import { createClient, type JobstreamClient, type JobstreamError, type NotificationItem, type StreamOptions } from '@jobstream/client';
import { AdminModel } from './admin/admin-model.js';
import type { Me } from './auth/who-am-i.js';
import { InboxModel } from './inbox/inbox-model.js';
import { JobActions } from './jobs/job-actions.js';
import { jobPageLoader } from './jobs/job-pages.js';
import { isFinished, type JobView } from './jobs/job-view.js';
import { JobsModel } from './jobs/jobs-model.js';
import { LiveConnection } from './live/live-connection.js';
import { parseStreamItem } from './live/messages.js';
import { DesktopNotifier } from './notify/desktop-notifier.js';
import { WebPushModel } from './notify/web-push.js';
import { ToastModel } from './notify/toast-model.js';
import { formatDuration, shortId } from './ui/format.js';
import { createStore, type Store } from './ui/store.js';

export interface SessionOptions {
  baseUrl: string;
  token: string | undefined;
  me: Me;
  /** Any call answered 401: the page goes back to the sign-in form with this error's message. */
  onUnauthorized(error: JobstreamError): void;
  stream?: StreamOptions;
}

/** Jobs per page of the list (`GET /api/jobs`). */
const JOB_PAGE_SIZE = 20;

/**
 * Everything a signed-in page runs: one SDK client, the tab's one notification stream, and the
 * models the components render. Stream messages are routed here to the model they concern.
 */
export class Session {
  readonly client: JobstreamClient;
  readonly me: Me;
  readonly isAdmin: boolean;
  readonly connection: LiveConnection;
  readonly jobs: JobsModel;
  readonly inbox: InboxModel;
  readonly toasts = new ToastModel();
  readonly desktop = new DesktopNotifier();
  /** Push notifications for when no page is open (offered after a submission). */
  readonly webPush: WebPushModel;
  readonly admin: AdminModel | undefined;
  /** Cancel and retry from the job cards. */
  readonly jobActions: JobActions;
  /**
   * The api refuses new jobs (the kill-switch), as far as this page knows: set by a refused
   * submission, cleared by an accepted one, and both ways by the system events and the operations
   * panel that admins get.
   */
  readonly paused: Store<boolean> = createStore(false);
  private readonly unsubscribers: (() => void)[] = [];
  private signedOut = false;
  private disposed = false;

  constructor(private readonly options: SessionOptions) {
    const token = options.token;
    this.client = createClient({ baseUrl: options.baseUrl, ...(token !== undefined ? { token } : {}), ...(options.stream ? { stream: options.stream } : {}) });
    this.me = options.me;
    this.isAdmin = options.me.roles.includes('admin');
    const onUnauthorized = (error: JobstreamError): void => this.unauthorized(error);
    this.jobs = new JobsModel({
      client: this.client,
      userId: options.me.userId,
      loadPage: jobPageLoader(this.client, JOB_PAGE_SIZE),
      onFinished: (job) => this.announce(job),
      onMoved: (from, to) => this.admin?.jobMoved(from, to),
      onUnauthorized,
    });
    this.jobActions = new JobActions(this.client, this.jobs, onUnauthorized);
    this.inbox = new InboxModel({ client: this.client, onUnauthorized });
    this.webPush = new WebPushModel(this.client);
    this.admin = this.isAdmin ? new AdminModel({ client: this.client, onUnauthorized }) : undefined;
    this.connection = new LiveConnection(this.client, {
      onItem: (item) => this.route(item),
      onUnauthorized,
      // The api's retry hint takes over from the base once it arrived; a dashboard should not wait 30 s.
      stream: { maxRetryDelayMs: 10_000, ...options.stream },
    });
    let polling = false;
    this.unsubscribers.push(
      this.connection.status.subscribe(() => {
        const now = this.connection.status.get().state === 'polling';
        if (now !== polling) {
          polling = now;
          this.jobs.setPolling(now);
        }
      }),
    );
    const admin = this.admin;
    if (admin) {
      // Only a change counts: a refresh that started before the switch went on may still say "off".
      let enabled: boolean | undefined;
      this.unsubscribers.push(
        admin.state.subscribe(() => {
          const now = admin.state.get().budget?.killSwitch.enabled;
          if (now === undefined || now === enabled) return;
          if (enabled !== undefined) this.paused.set(now);
          enabled = now;
        }),
      );
    }
  }

  start(): void {
    void this.jobs.load();
    this.connection.start();
    void this.inbox.load();
    this.admin?.start();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.connection.close();
    this.jobs.dispose();
    this.admin?.dispose();
    this.toasts.dispose();
  }

  /** Sign-out: stops everything and removes what this browser kept for the user. */
  signOut(): void {
    this.dispose();
    this.jobs.forget();
  }

  private route(item: NotificationItem): void {
    const message = parseStreamItem(item);
    switch (message.kind) {
      case 'connected':
        this.inbox.setUnreadCount(message.data.unreadCount);
        // The stream starts here: whatever happened to the jobs before it is fetched once.
        this.jobs.refreshUnfinished(true);
        break;
      case 'job':
        this.jobs.applyEvent(message.event, message.data, message.id);
        break;
      case 'notification':
        this.inbox.received(message.data);
        this.toasts.show({ kind: 'info', title: message.data.title, body: message.data.message });
        this.desktop.notify(message.data.title, message.data.message, `notification-${message.data.id}`);
        break;
      case 'unread_count':
        this.inbox.setUnreadCount(message.count);
        break;
      case 'reset':
        // The api's history no longer covers our cursor: events in between are gone, so refetch.
        this.jobs.refreshUnfinished(true);
        void this.inbox.load();
        void this.admin?.refresh();
        break;
      case 'system':
        if (message.event === 'system.kill_switch' && typeof message.data.enabled === 'boolean') this.paused.set(message.data.enabled);
        void this.admin?.refresh();
        break;
      case 'other':
        break;
    }
  }

  /** A finished job: a toast, and a browser notification when the tab is hidden. */
  private announce(job: JobView): void {
    if (!isFinished(job)) return;
    const name = `${job.type} ${shortId(job.jobId)}`;
    if (job.cancelledBy) {
      const body = job.cancelledBy === 'admin' ? 'An admin cancelled it.' : 'You cancelled it.';
      this.toasts.show({ kind: 'info', title: `${name} cancelled`, body });
      this.desktop.notify(`${job.type} cancelled`, body, `job-${job.jobId}`);
    } else if (job.state === 'completed') {
      const took = job.durationMs ?? (job.startedAt && job.finishedAt ? Date.parse(job.finishedAt) - Date.parse(job.startedAt) : undefined);
      const body = took !== undefined ? `Finished in ${formatDuration(took)}.` : 'Finished.';
      this.toasts.show({ kind: 'success', title: `${name} completed`, body });
      this.desktop.notify(`${job.type} completed`, body, `job-${job.jobId}`);
    } else {
      const body = job.error ?? 'The job failed.';
      this.toasts.show({ kind: 'error', title: `${name} failed`, body });
      this.desktop.notify(`${job.type} failed`, body, `job-${job.jobId}`);
    }
  }

  /** A call answered 401: back to the sign-in form (once, however many calls fail together). */
  unauthorized(error: JobstreamError): void {
    if (this.signedOut) return;
    this.signedOut = true;
    this.options.onUnauthorized(error);
  }
}
