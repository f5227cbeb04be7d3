import type { Logger } from '@jobstream/runtime';
import type { RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import type { ParsedUrlQuery } from 'node:querystring';
import { ApiError } from '../http/api-error.js';
import { headerOf } from '../http/request-context.js';
import { isStreamRequest } from '../http/stream-routes.js';
import type { AuthConfig } from './auth-config.js';
import { rolesFrom, userIdFrom } from './claims.js';
import { gatewayTrust } from './gateway-trust.js';
import { createJwtVerifier, type VerifiedToken } from './jwt-verifier.js';
import { setPrincipal, type Principal } from './principal.js';
import { cachedVerifier, TOKEN_CACHE_MAX_ENTRIES } from './token-cache.js';
import { mergeTopicPatterns, topicGrantsFromHeader } from './topic-grants.js';

/** The user every request acts as under AUTH_MODE=none: an admin, so a demo shows everything. */
export const DEMO_PRINCIPAL: Principal = { userId: 'demo', roles: new Set(['admin', 'service']) };

const challenge = { 'WWW-Authenticate': 'Bearer realm="jobstream"' };

/**
 * What authentication reads of a request, whether Express or the stream front door serves it: the
 * request, its query, and whether it is for a stream (only those take a token in the query).
 */
export interface AuthRequest {
  req: IncomingMessage;
  query: ParsedUrlQuery;
  stream: boolean;
}

/** Who is calling, or a thrown 401; async under `jwt`, where a token may need verifying. */
export type Authenticator = (request: AuthRequest) => Principal | Promise<Principal>;

function bearerToken(req: IncomingMessage): string | undefined {
  const header = headerOf(req.headers, 'authorization');
  if (header === undefined || header === '') return undefined;
  const match = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header);
  if (!match?.[1]) {
    throw new ApiError(401, 'INVALID_TOKEN', 'Send the token as "Authorization: Bearer <token>"', undefined, challenge);
  }
  return match[1];
}

function queryToken({ query, stream }: AuthRequest): string | undefined {
  const value = query.access_token;
  if (value === undefined || value === '') return undefined;
  // Only the stream routes take it: EventSource cannot send headers.
  if (typeof value !== 'string' || !stream) {
    throw new ApiError(401, 'INVALID_TOKEN', 'access_token is accepted only once, and only on stream routes; send "Authorization: Bearer <token>"', undefined, challenge);
  }
  return value;
}

/**
 * Establishes who is calling, per AUTH_MODE, before any route runs; a request without a valid
 * identity never reaches one. A token in `access_token` must be short-lived: it can end up in
 * proxy logs and browser history, so one that outlives `accessTokenMaxTtlS` is refused. Under
 * `gateway` the headers count only on a request that proves it came through the gateway
 * (gateway-trust.ts). Every caller may follow the public topics besides its own grants.
 */
export function createAuthenticator(config: AuthConfig, logger: Logger): Authenticator {
  if (config.mode === 'none') {
    logger.warn(
      'AUTH_MODE=none: every request acts as the admin user "demo" with no authentication. Use it for local demos only, never where anyone else can connect.',
    );
    return () => DEMO_PRINCIPAL;
  }
  const withPublicTopics = (principal: Principal): Principal => ({ ...principal, topics: mergeTopicPatterns(config.publicTopics, principal.topics ?? []) });
  if (config.mode === 'gateway') {
    const { gateway } = config;
    const secretChecked = gateway.secret !== undefined;
    logger.info(
      { userHeader: gateway.userHeader, roleHeader: gateway.roleHeader, topicsHeader: gateway.topicsHeader, secretChecked, trustedProxies: gateway.trustedProxies.length },
      'AUTH_MODE=gateway: trusting identity headers set by the gateway',
    );
    if (!secretChecked && gateway.trustedProxies.length === 0) {
      logger.warn(
        'AUTH_MODE=gateway without GATEWAY_SECRET or GATEWAY_TRUSTED_PROXIES: anyone who can reach the api can claim any user and role. Refused with NODE_ENV=production; set one of them.',
      );
    }
    const checkTrust = gatewayTrust(gateway);
    return ({ req }) => {
      checkTrust(req);
      const userId = headerOf(req.headers, gateway.userHeader);
      if (userId === undefined || userId === '') {
        throw new ApiError(401, 'AUTH_REQUIRED', `No user: the gateway sets ${gateway.userHeader}`, undefined, challenge);
      }
      const topics = gateway.topicsHeader === undefined ? [] : topicGrantsFromHeader(headerOf(req.headers, gateway.topicsHeader));
      return withPublicTopics({ userId: userIdFrom(userId), roles: rolesFrom(headerOf(req.headers, gateway.roleHeader) ?? ''), topics });
    };
  }
  const withTopics = new WeakMap<VerifiedToken, Principal>();
  const verify = cachedVerifier(createJwtVerifier(config.jwt), {
    maxEntries: config.jwt.cacheMaxEntries ?? TOKEN_CACHE_MAX_ENTRIES,
    clockSkewS: config.jwt.clockSkewS,
  });
  return async (request) => {
    const header = bearerToken(request.req);
    const query = header === undefined ? queryToken(request) : undefined;
    const token = header ?? query;
    if (token === undefined) {
      throw new ApiError(401, 'AUTH_REQUIRED', 'Sign in: send "Authorization: Bearer <token>"', undefined, challenge);
    }
    const verified = await verify(token);
    if (query !== undefined && verified.expiresAt - Date.now() / 1000 > config.accessTokenMaxTtlS + config.jwt.clockSkewS) {
      throw new ApiError(
        401,
        'INVALID_TOKEN',
        `A token in access_token must expire within ${config.accessTokenMaxTtlS} s; use a short-lived token or the Authorization header`,
        undefined,
        challenge,
      );
    }
    // One principal per verified token: a token answered from the cache costs no new merge of its topics.
    let principal = withTopics.get(verified);
    if (principal === undefined) {
      principal = withPublicTopics(verified.principal);
      withTopics.set(verified, principal);
    }
    return principal;
  };
}

/** Sets the caller of every request it sees (with Express's query and path under `/api`), or refuses the request. */
export function authenticateRequests(authenticator: Authenticator): RequestHandler {
  return async (req, res, next) => {
    const request: AuthRequest = {
      req,
      // Parsed only when read: a request with an Authorization header never looks at its query.
      get query() {
        return req.query as ParsedUrlQuery;
      },
      stream: isStreamRequest(req.method, req.path),
    };
    setPrincipal(res, await authenticator(request));
    next();
  };
}
