import { authModes, type AuthMode } from '@jobstream/contracts';
import { intVar, optionalVar } from '@jobstream/runtime';
import { z } from 'zod';

export { authModes, type AuthMode };

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
  .transform((v) => v.toLowerCase());

/** The api's authentication variables; `authConfigFrom` checks the rules between them. */
export const authEnvShape = {
  AUTH_MODE: z.enum(authModes).default('jwt'),
  JWT_SECRET: optionalVar(z.string().min(32, 'must be at least 32 characters (use a random secret)')),
  JWT_JWKS_URL: optionalVar(z.url()),
  JWT_ISSUER: optionalVar(z.string().min(1)),
  JWT_AUDIENCE: optionalVar(z.string().min(1)),
  JWT_CLOCK_SKEW_S: intVar(30, 0, 300),
  ACCESS_TOKEN_MAX_TTL_S: intVar(900, 30, 86_400),
  GATEWAY_USER_HEADER: headerName.default('x-user-id'),
  GATEWAY_ROLE_HEADER: headerName.default('x-user-role'),
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
  };
  /** A token in `?access_token=` (SSE only) must expire within this. Default 900 s. */
  accessTokenMaxTtlS: number;
  gateway: {
    /** Header with the user id. Default `x-user-id`. */
    userHeader: string;
    /** Header with the roles (comma- or space-separated). Default `x-user-role`. */
    roleHeader: string;
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
    },
    accessTokenMaxTtlS: env.ACCESS_TOKEN_MAX_TTL_S,
    gateway: { userHeader: env.GATEWAY_USER_HEADER, roleHeader: env.GATEWAY_ROLE_HEADER },
  };
}

/** Cross-field rules: jwt needs a key source; `none` is refused in production. */
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
}
