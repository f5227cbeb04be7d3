/**
 * Where the page keeps its access token: in sessionStorage (this tab only, gone when it closes),
 * never in localStorage or a cookie. A token arrives through a sign-in link (`#code=...`, a
 * single-use code the page exchanges for it; see sign-in-link.ts) or through the sign-in form.
 */
const KEY = 'jobstream.token';

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
