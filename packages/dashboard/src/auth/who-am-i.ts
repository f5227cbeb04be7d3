import { errorFromResponse, JobstreamNetworkError, JobstreamProtocolError } from '@jobstream/client';

/** `GET /api/me`: who the api takes this page for. */
export interface Me {
  userId: string;
  roles: string[];
  /** `jwt`, `gateway` or `none`. */
  authMode: string;
}

function isMe(value: unknown): value is Me {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.userId === 'string' && Array.isArray(v.roles) && v.roles.every((r) => typeof r === 'string') && typeof v.authMode === 'string';
}

/**
 * Asks the api who the token belongs to. The SDK has no call for `/api/me` yet, so this is the one
 * request the page makes itself; errors still come back as the SDK's typed errors
 * (`UnauthorizedError` for a missing, bad or expired token).
 */
export async function whoAmI(baseUrl: string, token: string | undefined, signal?: AbortSignal): Promise<Me> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/api/me`, { headers, cache: 'no-store', ...(signal ? { signal } : {}) });
  } catch (err) {
    throw new JobstreamNetworkError(`GET /api/me failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) throw errorFromResponse(res, body);
  if (!isMe(body)) throw new JobstreamProtocolError('GET /api/me answered with something that is not { userId, roles, authMode }');
  return body;
}
