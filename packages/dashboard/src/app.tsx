import { UnauthorizedError, type JobstreamError } from '@jobstream/client';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ConfirmSignIn } from './auth/confirm-sign-in.js';
import { SignIn } from './auth/sign-in.js';
import { redeemSignInCode, takeSignInLink, type SignInGrant } from './auth/sign-in-link.js';
import { isPlainSubject } from './auth/subject.js';
import { clearToken, saveToken, savedToken } from './auth/token-store.js';
import { whoAmI } from './auth/who-am-i.js';
import { Dashboard } from './dashboard.js';
import { Session } from './session.js';
import { isolated } from './ui/bidi.js';
import { Isolated } from './ui/isolated.js';

type Phase =
  | { kind: 'checking' }
  | { kind: 'signed-out'; message: string | undefined; isError: boolean }
  | { kind: 'unreachable'; message: string; token: string | undefined }
  | { kind: 'signed-in'; session: Session }
  | { kind: 'confirm'; grant: SignInGrant; current: string | undefined };

const TOKEN_LINK_REFUSED = 'Links with #token= are no longer accepted: ask for a new link (npm run -s token prints one with a single-use #code=).';

/**
 * Signs in with a sign-in link's code (exchanged for the token), the tab's session storage or the
 * form (or none, when the api runs AUTH_MODE=none), then runs the dashboard. A link opened in a tab
 * that has a session, or for a subject that could pass for another name, is confirmed first. Any
 * 401 later returns here with the api's reason.
 */
export function App({ baseUrl }: { baseUrl: string }) {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });

  const signIn = useCallback(
    async (token: string | undefined) => {
      setPhase({ kind: 'checking' });
      try {
        const me = await whoAmI(baseUrl, token);
        if (token !== undefined) saveToken(token);
        const session = new Session({
          baseUrl,
          token,
          me,
          onUnauthorized: (error: JobstreamError) => {
            clearToken();
            setPhase({ kind: 'signed-out', message: `Your session ended: ${isolated(error.message)} (${error.code}). Sign in again.`, isError: true });
          },
        });
        setPhase({ kind: 'signed-in', session });
      } catch (err) {
        if (err instanceof UnauthorizedError) {
          clearToken();
          setPhase(
            token === undefined
              ? { kind: 'signed-out', message: undefined, isError: false }
              : { kind: 'signed-out', message: `The api did not accept that token: ${isolated(err.message)} (${err.code}).`, isError: true },
          );
        } else {
          setPhase({ kind: 'unreachable', message: err instanceof Error ? err.message : String(err), token });
        }
      }
    },
    [baseUrl],
  );

  // The phase as the link handler sees it: a link can arrive (hashchange) at any moment.
  const current = useRef(phase);
  current.current = phase;

  const followLink = useCallback(
    async (atStart: boolean) => {
      const link = takeSignInLink();
      if (link === undefined) {
        if (atStart) void signIn(savedToken());
        return;
      }
      const before = current.current;
      const session = before.kind === 'signed-in' ? before.session : undefined;
      const refuse = (message: string): void => {
        if (session) session.toasts.show({ kind: 'error', title: 'Sign-in link refused', body: message });
        else setPhase({ kind: 'signed-out', message, isError: true });
      };
      if (link.kind === 'token') {
        refuse(TOKEN_LINK_REFUSED);
        return;
      }
      let grant: SignInGrant;
      try {
        grant = await redeemSignInCode(baseUrl, link.code);
      } catch (err) {
        refuse(`This sign-in link did not work: ${isolated(err instanceof Error ? err.message : String(err))}. Links work once, for 2 minutes.`);
        return;
      }
      // Someone is signed in (in this page or this tab's storage) or the name could pass for another: ask.
      const signedIn = session !== undefined || before.kind === 'confirm' || savedToken() !== undefined;
      if (signedIn || !isPlainSubject(grant.userId)) {
        setPhase({ kind: 'confirm', grant, current: session?.me.userId ?? (before.kind === 'confirm' ? before.current : undefined) });
        return;
      }
      void signIn(grant.token);
    },
    [baseUrl, signIn],
  );

  useEffect(() => {
    void followLink(true);
    const onHashChange = (): void => void followLink(false);
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [followLink]);

  const session = phase.kind === 'signed-in' ? phase.session : undefined;
  useEffect(() => {
    if (!session) return undefined;
    session.start();
    return () => session.dispose();
  }, [session]);

  const signOut = useCallback(() => {
    clearToken();
    // The next person at this browser sees nothing of this user's (their job ids in localStorage).
    session?.signOut();
    setPhase({ kind: 'signed-out', message: 'You are signed out.', isError: false });
  }, [session]);

  switch (phase.kind) {
    case 'checking':
      return (
        <main class="center-screen" aria-busy="true">
          <p class="muted">Connecting to jobstream…</p>
        </main>
      );
    case 'unreachable':
      return (
        <main class="center-screen">
          <div class="card narrow">
            <h1>jobstream is not answering</h1>
            <p role="alert">
              <Isolated text={phase.message} />
            </p>
            <button type="button" class="button primary" onClick={() => void signIn(phase.token)}>
              Try again
            </button>
          </div>
        </main>
      );
    case 'signed-out':
      return <SignIn message={phase.message} isError={phase.isError} onSubmit={(token) => void signIn(token)} />;
    case 'signed-in':
      return <Dashboard session={phase.session} onSignOut={signOut} />;
    case 'confirm':
      return (
        <ConfirmSignIn
          userId={phase.grant.userId}
          current={phase.current}
          onContinue={() => void signIn(phase.grant.token)}
          // The session the tab had before, from its storage (or the form when it had none).
          onCancel={() => void signIn(savedToken())}
        />
      );
  }
}
