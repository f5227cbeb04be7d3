/**
 * Where the page keeps its access token: in sessionStorage (this tab only, gone when it closes),
 * never in localStorage or a cookie. A token arrives either in the URL fragment (`#token=...`, which
 * browsers never send to the server) or through the sign-in form.
 */
const KEY = 'jobstream.token';

/**
 * Takes `token` out of the URL fragment and removes it from the address bar (and from the history
 * entry), keeping any other fragment parameters. Returns the token, or undefined when there is none.
 */
export function takeTokenFromFragment(location: Location = window.location, history: History = window.history): string | undefined {
  const fragment = location.hash.replace(/^#/, '');
  if (fragment === '') return undefined;
  const params = new URLSearchParams(fragment);
  const token = params.get('token') ?? params.get('access_token');
  if (token === null) return undefined;
  params.delete('token');
  params.delete('access_token');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  const trimmed = token.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function savedToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    // Storage disabled (some privacy modes): the token lives only as long as the page.
    return undefined;
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // See savedToken.
  }
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // See savedToken.
  }
}
