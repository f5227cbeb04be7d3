import { createClient, type MeResponse } from '@jobstream/client';

/** `GET /api/me`: who the api takes this page for. */
export type Me = MeResponse;

/**
 * Asks the api who the token belongs to, before the session (and its client) exists. Errors are
 * the SDK's typed errors (`UnauthorizedError` for a missing, bad or expired token).
 */
export function whoAmI(baseUrl: string, token: string | undefined, signal?: AbortSignal): Promise<Me> {
  return createClient({ baseUrl, ...(token !== undefined ? { token } : {}) }).me(signal ? { signal } : {});
}
