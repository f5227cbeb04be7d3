import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ApiError } from '../http/api-error.js';
import type { AuthConfig } from './auth-config.js';
import { rolesFrom, userIdFrom } from './claims.js';
import type { Principal } from './principal.js';
import { topicGrantsFrom } from './topic-grants.js';

/** What a verified token yields: the caller and when the token stops being valid (epoch seconds). */
export interface VerifiedToken {
  principal: Principal;
  expiresAt: number;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

const SYMMETRIC = ['HS256'];
const ASYMMETRIC = ['RS256', 'ES256'];

/**
 * Verifies bearer tokens with jose: HS256 by the shared secret, RS256/ES256 by the JWKS keys.
 * The algorithm allowlist comes from the configured key sources, never from the token, so
 * `alg: none` and an HS256 token signed with a public key are refused. `exp` and `sub` are required;
 * a `topics` claim grants topics to follow (see topic-grants.ts).
 */
export function createJwtVerifier(config: AuthConfig['jwt']): TokenVerifier {
  const secret = config.secret ? new TextEncoder().encode(config.secret) : undefined;
  const jwks = config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 }) : undefined;
  const algorithms = [...(secret ? SYMMETRIC : []), ...(jwks ? ASYMMETRIC : [])];
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg && SYMMETRIC.includes(header.alg) && secret) return secret;
    if (jwks) return jwks(header, token);
    throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
  };
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms,
        clockTolerance: config.clockSkewS,
        requiredClaims: ['exp', 'sub'],
        ...(config.issuer ? { issuer: config.issuer } : {}),
        ...(config.audience ? { audience: config.audience } : {}),
      }));
    } catch (err) {
      throw tokenError(err);
    }
    return {
      principal: { userId: userIdFrom(payload.sub), roles: rolesFrom(payload.roles), topics: topicGrantsFrom(payload.topics) },
      expiresAt: payload.exp ?? 0,
    };
  };
}

const bearerChallenge = (error: string) => ({ 'WWW-Authenticate': `Bearer realm="jobstream", error="${error}"` });

/**
 * jose's failure as the api's answer: expired, unusable, or (the key server cannot be reached or
 * answers garbage) try later. jose throws its generic JOSEError only when fetching the key set;
 * anything not from jose (a refused connection) is that too. Checked by code and name, not by
 * class alone: errors from node's http module may come from another realm (e.g. under a test VM).
 */
function tokenError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof errors.JWTExpired) {
    return new ApiError(401, 'TOKEN_EXPIRED', 'The token has expired; get a new one', undefined, bearerChallenge('invalid_token'));
  }
  const fromJose = err instanceof errors.JOSEError;
  if (!fromJose || err instanceof errors.JWKSTimeout || code === 'ERR_JOSE_GENERIC') {
    return new ApiError(503, 'AUTH_UNAVAILABLE', 'The signing keys could not be fetched; try again shortly', undefined, { 'Retry-After': '5' });
  }
  return new ApiError(401, 'INVALID_TOKEN', `The token is not valid (${String(code)})`, undefined, bearerChallenge('invalid_token'));
}
