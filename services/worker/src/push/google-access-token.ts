import type { FcmServiceAccount } from '@jobstream/runtime';
import { sign } from 'node:crypto';
import { z } from 'zod';
import type { PushRequestOptions } from './push-request.js';
import { posting, RejectedPushError, RetryablePushError } from './push-transports.js';

/** What FCM HTTP v1 asks of the bearer. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** The signed assertion's lifetime: Google accepts at most one hour. */
const ASSERTION_SECONDS = 3_600;
/** A token is renewed this long before it expires, so that none goes out about to lapse. */
const RENEW_BEFORE_MS = 60_000;

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().int().positive(),
});

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The JWT a service account signs to ask for an access token (RFC 7523, RS256 with the account's key). */
export function serviceAccountAssertion(account: FcmServiceAccount, audience: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1_000);
  const header = { alg: 'RS256', typ: 'JWT', ...(account.private_key_id ? { kid: account.private_key_id } : {}) };
  const claims = { iss: account.client_email, scope: FCM_SCOPE, aud: audience, iat, exp: iat + ASSERTION_SECONDS };
  const input = `${base64url(header)}.${base64url(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), account.private_key).toString('base64url')}`;
}

/**
 * An OAuth2 access token for FCM, from a service account: the signed assertion is exchanged at the
 * token URL, and the token kept until shortly before it expires. Concurrent sends share one
 * exchange. A 4xx from the token URL (a revoked key, a wrong account) is not tried again.
 */
export class GoogleAccessToken {
  private current: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly account: FcmServiceAccount,
    private readonly tokenUrl: string,
    private readonly request: PushRequestOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return this.current.token;
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets the token (FCM answered 401 with it): the next send asks for a new one. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async exchange(): Promise<string> {
    const startedAt = this.now();
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: serviceAccountAssertion(this.account, this.tokenUrl, startedAt),
    }).toString();
    const res = await posting({ url: this.tokenUrl, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form }, this.request);
    const detail = `the token URL answered ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ''}`;
    if (res.status === 429 || res.status >= 500) throw new RetryablePushError(detail, res.status);
    if (res.status !== 200) throw new RejectedPushError(`FCM access token refused (check FCM_SERVICE_ACCOUNT_JSON): ${detail}`, res.status);
    let parsed: z.infer<typeof tokenResponseSchema>;
    try {
      parsed = tokenResponseSchema.parse(JSON.parse(res.body));
    } catch {
      throw new RetryablePushError('the token URL answered 200 without an access token');
    }
    this.current = { token: parsed.access_token, renewAt: startedAt + parsed.expires_in * 1_000 - RENEW_BEFORE_MS };
    return parsed.access_token;
  }
}
