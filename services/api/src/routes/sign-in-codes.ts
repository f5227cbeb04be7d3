import { redeemSignInCodeRequestSchema, roleSchema, type AuthMode, signInCodeSchema, zodIssuesToDetails, type RedeemSignInCodeResponse, type SignInCodeResponse } from '@jobstream/contracts';
import type { JobstreamKeys, RedisClient } from '@jobstream/runtime';
import express, { Router, type Request } from 'express';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { principalOf } from '../auth/principal.js';
import { SignInCodeLimits } from '../auth/sign-in-code-limits.js';
import { ApiError } from '../http/api-error.js';
import { requireJson } from '../http/error-handler.js';
import { limitJsonDepth } from '../http/json-depth.js';

/** How long a code works: long enough to open a link, too short for a history entry to be worth stealing. */
export const SIGN_IN_CODE_TTL_MS = 120_000;

export interface SignInCodeDeps {
  redis: RedisClient;
  keys: Pick<JobstreamKeys, 'signInCode' | 'signInCodeRateLimit'>;
}

/** What Redis holds for one code. */
const storedSchema = z.object({ token: z.string(), userId: z.string(), roles: z.array(roleSchema), exp: z.number() });

const invalidCode = (): ApiError => new ApiError(404, 'SIGN_IN_CODE_INVALID', 'This sign-in code is unknown, used or expired; ask for a new link');

const expClaim = z.object({ exp: z.number() });

/**
 * The token the request authenticated with. Only under AUTH_MODE=jwt is the Authorization header
 * what authentication verified; under `gateway` or `none` it is whatever the client sent.
 */
function bearerOf(req: Request, authMode: AuthMode): { token: string; exp: number } {
  const token = authMode === 'jwt' ? /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '')?.[1] : undefined;
  if (token === undefined) throw new ApiError(400, 'VALIDATION_FAILED', 'Sign-in codes hand over a bearer token; this request was not made with one');
  // Verified already: the payload is read only for its `exp`, which the verifier requires.
  const exp = expClaim.parse(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))).exp;
  return { token, exp };
}

/**
 * POST /api/sign-in-codes (behind authentication): a single-use code for the caller's own token,
 * for a link that signs a browser in without putting the token in its URL.
 */
export function issueSignInCodeRoutes(deps: SignInCodeDeps, authMode: AuthMode, limits: SignInCodeLimits): Router {
  const router = Router();
  router.post('/sign-in-codes', async (req, res) => {
    const principal = principalOf(res);
    const { token, exp } = bearerOf(req, authMode);
    const now = Date.now();
    const expiresAtMs = Math.min(now + SIGN_IN_CODE_TTL_MS, exp * 1_000);
    if (expiresAtMs - now < 1_000) throw new ApiError(401, 'TOKEN_EXPIRED', 'The token expires too soon to hand over');
    await limits.consumeIssue(principal.userId);
    const code = randomBytes(32).toString('base64url');
    const stored = { token, userId: principal.userId, roles: [...principal.roles].sort(), exp };
    // An absolute expiry: the code is gone by the token's `exp` however long the SET took.
    await deps.redis.set(deps.keys.signInCode(code), JSON.stringify(stored), 'PXAT', expiresAtMs);
    const answer: SignInCodeResponse = { code, expiresAt: new Date(expiresAtMs).toISOString() };
    res.status(201).set('Cache-Control', 'no-store').json(answer);
  });
  return router;
}

/**
 * POST /api/sign-in-codes/redeem: public (the code is the credential), so mounted before
 * authentication with its own small JSON parser. The code is read and deleted in one step: a second
 * redeem, on any replica, finds nothing.
 */
export function redeemSignInCodeRoutes(deps: SignInCodeDeps, limits: SignInCodeLimits): Router {
  const router = Router();
  router.post(
    '/sign-in-codes/redeem',
    requireJson,
    express.json({ limit: 16_384, strict: false }),
    limitJsonDepth(),
    async (req, res) => {
      await limits.consumeRedeem(req.ip ?? req.socket.remoteAddress ?? 'unknown');
      const body = redeemSignInCodeRequestSchema.safeParse(req.body);
      if (!body.success) throw ApiError.validation(zodIssuesToDetails(body.error));
      // A string that cannot be a code is not looked up: it is unknown, like any other.
      if (!signInCodeSchema.safeParse(body.data.code).success) throw invalidCode();
      const raw = await deps.redis.getdel(deps.keys.signInCode(body.data.code));
      const stored = raw === null ? undefined : storedSchema.safeParse(JSON.parse(raw));
      if (!stored?.success || stored.data.exp * 1_000 <= Date.now()) throw invalidCode();
      const answer: RedeemSignInCodeResponse = {
        token: stored.data.token,
        userId: stored.data.userId,
        roles: stored.data.roles,
        expiresAt: new Date(stored.data.exp * 1_000).toISOString(),
      };
      res.set('Cache-Control', 'no-store').json(answer);
    },
  );
  return router;
}
