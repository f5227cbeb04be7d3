import { authModes, topicPatternSchema, type AuthMode } from '@jobstream/contracts';
import { intVar, optionalVar } from '@jobstream/runtime';
import { z } from 'zod';
import { parseAddressRange, type AddressRange } from './address-ranges.js';
import { TOKEN_CACHE_MAX_ENTRIES } from './token-cache.js';

export { authModes, type AuthMode };

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
  .transform((v) => v.toLowerCase());

/** A comma-separated list; an issue names each entry `parse` does not take. Unset or empty: `[]`. */
function listVar<T>(parse: (entry: string) => T | undefined, what: string) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const items: T[] = [];
      for (const entry of (value ?? '').split(',').map((e) => e.trim())) {
        if (entry === '') continue;
        const item = parse(entry);
        if (item === undefined) ctx.addIssue({ code: 'custom', message: `"${entry}" is not ${what}` });
        else items.push(item);
      }
      return items;
    });
}

/** The api's authentication variables; `authConfigFrom` checks the rules between them. */
export const authEnvShape = {
  AUTH_MODE: z.enum(authModes).default('jwt'),
  JWT_SECRET: optionalVar(z.string().min(32, 'must be at least 32 characters (use a random secret)')),
  JWT_JWKS_URL: optionalVar(z.url()),
  JWT_ISSUER: optionalVar(z.string().min(1)),
  JWT_AUDIENCE: optionalVar(z.string().min(1)),
  JWT_CLOCK_SKEW_S: intVar(30, 0, 300),
  JWT_CACHE_MAX_ENTRIES: intVar(TOKEN_CACHE_MAX_ENTRIES, 0, 1_000_000),
  ACCESS_TOKEN_MAX_TTL_S: intVar(900, 30, 86_400),
  GATEWAY_USER_HEADER: headerName.default('x-user-id'),
  GATEWAY_ROLE_HEADER: headerName.default('x-user-role'),
  GATEWAY_TOPICS_HEADER: optionalVar(headerName),
  // Long, and bytes a header carries unchanged. A config error never shows it (parseEnv hides *SECRET* values).
  GATEWAY_SECRET: optionalVar(z.string().regex(/^[\x21-\x7e]{32,}$/, 'must be at least 32 printable ASCII characters without spaces (use a random secret)')),
  GATEWAY_SECRET_HEADER: headerName.default('x-gateway-secret'),
  GATEWAY_TRUSTED_PROXIES: listVar(parseAddressRange, 'an IP address or CIDR range (10.0.0.0/8, ::1)'),
  NOTIFICATION_PUBLIC_TOPICS: listVar((entry) => (topicPatternSchema.safeParse(entry).success ? entry : undefined), 'a topic or pattern (news, public.*, *)'),
};

type AuthEnv = z.output<z.ZodObject<typeof authEnvShape>> & { NODE_ENV: string };

export interface AuthConfig {
  /** `jwt` (the default), `gateway` (trust headers set by an authenticating proxy) or `none` (local demos). */
  mode: AuthMode;
  jwt: {
    /** HS256 shared secret; at least 32 characters. */
    secret?: string | undefined;
    /** Where RS256/ES256 public keys are fetched from (cached, refreshed on an unknown `kid`). */
    jwksUrl?: string | undefined;
    /** Required `iss`, when set. */
    issuer?: string | undefined;
    /** Required `aud`, when set. */
    audience?: string | undefined;
    /** Tolerance on `exp`/`nbf`. Default 30 s. */
    clockSkewS: number;
    /** Verified tokens remembered until their `exp` (see token-cache.ts); 0 verifies every request. Default 10,000. */
    cacheMaxEntries?: number | undefined;
  };
  /** A token in `?access_token=` (SSE only) must expire within this. Default 900 s. */
  accessTokenMaxTtlS: number;
  /** Topic patterns every signed-in caller may follow (NOTIFICATION_PUBLIC_TOPICS). Default: none. */
  publicTopics: string[];
  gateway: {
    /** Header with the user id. Default `x-user-id`. */
    userHeader: string;
    /** Header with the roles (comma- or space-separated). Default `x-user-role`. */
    roleHeader: string;
    /** Header with the caller's topic grants (comma- or space-separated patterns). Unset (default): public topics only. */
    topicsHeader?: string | undefined;
    /** The secret the gateway sends in `secretHeader`, at least 32 characters. Never logged. */
    secret?: string | undefined;
    /** Default `x-gateway-secret`. */
    secretHeader: string;
    /** Addresses the gateway connects from (GATEWAY_TRUSTED_PROXIES). Empty (default): any address. */
    trustedProxies: AddressRange[];
  };
}

/** Builds the auth settings; adds an issue for every combination that cannot work. */
export function authConfigFrom(env: AuthEnv): AuthConfig {
  return {
    mode: env.AUTH_MODE,
    jwt: {
      secret: env.JWT_SECRET,
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      clockSkewS: env.JWT_CLOCK_SKEW_S,
      cacheMaxEntries: env.JWT_CACHE_MAX_ENTRIES,
    },
    accessTokenMaxTtlS: env.ACCESS_TOKEN_MAX_TTL_S,
    publicTopics: env.NOTIFICATION_PUBLIC_TOPICS,
    gateway: {
      userHeader: env.GATEWAY_USER_HEADER,
      roleHeader: env.GATEWAY_ROLE_HEADER,
      topicsHeader: env.GATEWAY_TOPICS_HEADER,
      secret: env.GATEWAY_SECRET,
      secretHeader: env.GATEWAY_SECRET_HEADER,
      trustedProxies: env.GATEWAY_TRUSTED_PROXIES,
    },
  };
}

/**
 * Cross-field rules: jwt needs a key source; `none` is refused in production, and so is a gateway
 * mode that cannot tell the gateway from anyone else who reaches the api.
 */
export function checkAuthEnv(env: AuthEnv, ctx: z.RefinementCtx): void {
  if (env.AUTH_MODE === 'jwt' && !env.JWT_SECRET && !env.JWT_JWKS_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['JWT_SECRET'],
      message: 'AUTH_MODE=jwt needs JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256); AUTH_MODE=none is for local demos only',
    });
  }
  if (env.AUTH_MODE === 'none' && env.NODE_ENV === 'production') {
    ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: 'AUTH_MODE=none is refused with NODE_ENV=production' });
  }
  const gatewayIsVerified = env.GATEWAY_SECRET !== undefined || env.GATEWAY_TRUSTED_PROXIES.length > 0;
  if (env.AUTH_MODE === 'gateway' && env.NODE_ENV === 'production' && !gatewayIsVerified) {
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_MODE'],
      message: 'AUTH_MODE=gateway with NODE_ENV=production needs GATEWAY_SECRET or GATEWAY_TRUSTED_PROXIES: without them anyone who reaches the api can claim any user',
    });
  }
  const headers = [env.GATEWAY_USER_HEADER, env.GATEWAY_ROLE_HEADER, env.GATEWAY_TOPICS_HEADER, env.GATEWAY_SECRET_HEADER].filter((h) => h !== undefined);
  if (env.AUTH_MODE === 'gateway' && new Set(headers).size !== headers.length) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: `the gateway's user, role, topics and secret headers must have different names (got ${headers.join(', ')})` });
  }
}
