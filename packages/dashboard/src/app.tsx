import { UnauthorizedError, type JobstreamError } from '@jobstream/client';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { SignIn } from './auth/sign-in.js';
import { clearToken, saveToken, savedToken, takeTokenFromFragment } from './auth/token-store.js';
import { whoAmI } from './auth/who-am-i.js';
import { Dashboard } from './dashboard.js';
import { Session } from './session.js';
import { isolated } from './ui/bidi.js';
import { Isolated } from './ui/isolated.js';

type Phase =
  | { kind: 'checking' }
  | { kind: 'signed-out'; message: string | undefined; isError: boolean }
  | { kind: 'unreachable'; message: string; token: string | undefined }
  | { kind: 'signed-in'; session: Session };

/**
 * Signs in with the token from the URL fragment, the tab's session storage or the form (or none,
 * when the api runs AUTH_MODE=none), then runs the dashboard. Any 401 later returns here with the
 * api's reason.
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

  useEffect(() => {
    void signIn(takeTokenFromFragment() ?? savedToken());
  }, [signIn]);

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
  }
}
