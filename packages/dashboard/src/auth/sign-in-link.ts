import { redeemSignInCodeResponseSchema, type RedeemSignInCodeResponse } from '@jobstream/contracts';

/** What the URL fragment asks for: a sign-in code, a token (no longer accepted), or nothing. */
export type SignInLink = { kind: 'code'; code: string } | { kind: 'token' } | undefined;

/**
 * Reads a sign-in link from the fragment and removes it from the address bar and the tab's history
 * entry at once, keeping any other fragment parameters. A `#token=` link is removed too and never
 * used: its token is already in the browser's history, and it would sign in whoever sent it.
 */
export function takeSignInLink(location: Location = window.location, history: History = window.history): SignInLink {
  const fragment = location.hash.replace(/^#/, '');
  if (fragment === '') return undefined;
  const params = new URLSearchParams(fragment);
  const code = params.get('code');
  const token = params.get('token') ?? params.get('access_token');
  if (code === null && token === null) return undefined;
  for (const name of ['code', 'token', 'access_token']) params.delete(name);
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  if (code !== null) return { kind: 'code', code: code.trim() };
  return { kind: 'token' };
}

/** A redeemed code: the token and whose it is. */
export type SignInGrant = RedeemSignInCodeResponse;

/** The code was unknown, used or expired (404), malformed, or the api refused it otherwise. */
export class SignInCodeError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SignInCodeError';
  }
}

/** `POST /api/sign-in-codes/redeem`: exchanges the code for its token (it works once). */
export async function redeemSignInCode(baseUrl: string, code: string): Promise<SignInGrant> {
  const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/api/sign-in-codes/redeem`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
    credentials: 'omit',
    cache: 'no-store',
  });
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const error = body as { error?: unknown; code?: unknown } | undefined;
    throw new SignInCodeError(typeof error?.error === 'string' ? error.error : `HTTP ${res.status}`, typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`);
  }
  return redeemSignInCodeResponseSchema.parse(body);
}
