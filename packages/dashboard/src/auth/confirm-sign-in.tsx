import { useEffect, useRef } from 'preact/hooks';
import { Isolated } from '../ui/isolated.js';
import { Logo } from '../ui/icons.js';
import { isPlainSubject, unambiguousSubject } from './subject.js';

export interface ConfirmSignInProps {
  /** The subject the link signs in as. */
  userId: string;
  /** Who is signed in in this tab now, when known. */
  current: string | undefined;
  onContinue(): void;
  onCancel(): void;
}

/**
 * Asked before a link replaces a session, or signs in as a subject that could pass for another
 * name: a link can come from anyone, so it never switches users without a word.
 */
export function ConfirmSignIn({ userId, current, onContinue, onCancel }: ConfirmSignInProps) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  const shown = unambiguousSubject(userId);
  return (
    <main class="center-screen">
      <div class="card narrow sign-in" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-help">
        <div class="brand">
          <Logo />
          <span>jobstream</span>
        </div>
        <h1 id="confirm-title">
          Sign in as <Isolated class="subject" text={shown} />?
        </h1>
        <div id="confirm-help">
          {current !== undefined && (
            <p>
              This tab is signed in as <Isolated class="subject" text={unambiguousSubject(current)} />. Continuing replaces that session.
            </p>
          )}
          {current === undefined && <p>This tab already has a session. Continuing replaces it.</p>}
          {!isPlainSubject(userId) && (
            <p class="notice warning" role="alert">
              This name has characters outside plain ASCII (shown as code points): it may imitate another name.
            </p>
          )}
          <p class="muted small">Continue only if you opened this link yourself, to sign in as this user.</p>
        </div>
        <button type="button" class="button primary" onClick={onContinue}>
          Continue
        </button>{' '}
        <button type="button" class="button" ref={cancel} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </main>
  );
}
