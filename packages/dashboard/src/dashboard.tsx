import { AdminPanel } from './admin/admin-panel.js';
import { Bell } from './inbox/bell.js';
import { JobList } from './jobs/job-list.js';
import { SubmitForm } from './jobs/submit-form.js';
import { DesktopPrompt } from './notify/desktop-prompt.js';
import { Toasts } from './notify/toasts.js';
import type { Session } from './session.js';
import { isolated } from './ui/bidi.js';
import { ConnectionIndicator } from './ui/connection-indicator.js';
import { Logo } from './ui/icons.js';
import { Isolated } from './ui/isolated.js';
import { useStore } from './ui/store.js';

export interface DashboardProps {
  session: Session;
  onSignOut(): void;
}

/** The signed-in page: header (connection, bell, user), the admin panel for admins, the form and the jobs. */
export function Dashboard({ session, onSignOut }: DashboardProps) {
  const status = useStore(session.connection.status);
  const inbox = useStore(session.inbox.state);
  const { me } = session;
  return (
    <>
      <a class="skip-link" href="#jobs-title">
        Skip to your jobs
      </a>
      <header class="topbar">
        <div class="brand">
          <Logo />
          <span>jobstream</span>
        </div>
        <div class="topbar-actions">
          <ConnectionIndicator status={status} />
          {inbox.available && <Bell model={session.inbox} state={inbox} />}
          <div class="user">
            <span class="user-name" title={`Signed in as ${isolated(me.userId)}${me.roles.length > 0 ? ` (${isolated(me.roles.join(', '))})` : ''}`}>
              <span class="visually-hidden">Signed in as </span>
              <Isolated text={me.userId} />
              {session.isAdmin && <span class="role-chip">admin</span>}
            </span>
            {me.authMode !== 'none' && (
              <button type="button" class="button ghost small" onClick={onSignOut}>
                Sign out
              </button>
            )}
          </div>
        </div>
      </header>
      <main class="layout">
        {session.admin && <AdminPanel model={session.admin} />}
        <div class="columns">
          <div class="side">
            <SubmitForm session={session} />
            <DesktopPrompt notifier={session.desktop} />
          </div>
          <JobList model={session.jobs} actions={session.jobActions} />
        </div>
      </main>
      <Toasts model={session.toasts} />
    </>
  );
}
