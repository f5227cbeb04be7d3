import { useEffect, useRef, useState } from 'preact/hooks';
import { Logo } from '../ui/icons.js';

export interface SignInProps {
  /** Why the form is shown (an expired token, a sign-out), if there is a reason. */
  message: string | undefined;
  isError: boolean;
  onSubmit(token: string): void;
}

/** Paste an access token; it is kept in this tab's session storage only. */
export function SignIn({ message, isError, onSubmit }: SignInProps) {
  const [token, setToken] = useState('');
  const [empty, setEmpty] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = (event: Event): void => {
    event.preventDefault();
    const trimmed = token.trim().replace(/^Bearer\s+/i, '');
    if (trimmed === '') {
      setEmpty(true);
      input.current?.focus();
      return;
    }
    onSubmit(trimmed);
  };

  return (
    <main class="center-screen">
      <form class="card narrow sign-in" onSubmit={submit} noValidate aria-labelledby="sign-in-title">
        <div class="brand">
          <Logo />
          <span>jobstream</span>
        </div>
        <h1 id="sign-in-title">Sign in</h1>
        {message !== undefined && (
          <p class={isError ? 'notice error' : 'notice'} role={isError ? 'alert' : 'status'}>
            {message}
          </p>
        )}
        <label for="token">Access token</label>
        <textarea
          id="token"
          ref={input}
          rows={4}
          spellcheck={false}
          autocomplete="off"
          aria-describedby="token-help"
          aria-invalid={empty}
          value={token}
          onInput={(e) => {
            setToken((e.target as HTMLTextAreaElement).value);
            setEmpty(false);
          }}
        />
        {empty && <p class="field-error">Paste a token first.</p>}
        <p id="token-help" class="muted small">
          A JWT from your identity provider, or on a development machine <code>npm run -s token -- --user alice</code>. The link it prints
          (<code>#code=…</code>, valid once, for 2 minutes) signs in directly. The token stays in this tab only.
        </p>
        <button type="submit" class="button primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
