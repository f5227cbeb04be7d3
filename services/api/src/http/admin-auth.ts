import type { RequestHandler } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './api-error.js';

/** Who an admin request acts as; routes record it in audit trails. Set by the guard on `res.locals`. */
export interface AdminIdentity {
  id: string;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Guards the admin routes with the `ADMIN_TOKEN` bearer token; role-based access would replace
 * this one middleware. Without a configured token the routes
 * refuse every request: an admin surface is never open by default.
 * Both sides are hashed first so that the comparison is constant-time whatever the lengths.
 */
export function requireAdminToken(token: string | undefined): RequestHandler {
  const expected = token ? digest(token) : undefined;
  return (req, res, next) => {
    if (!expected) {
      throw new ApiError(503, 'ADMIN_NOT_CONFIGURED', 'Admin endpoints are disabled: no ADMIN_TOKEN is configured');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1]) {
      throw new ApiError(401, 'ADMIN_TOKEN_REQUIRED', 'Send the admin token as "Authorization: Bearer <token>"', undefined, {
        'WWW-Authenticate': 'Bearer realm="jobstream-admin"',
      });
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      throw new ApiError(403, 'FORBIDDEN', 'The admin token is not valid');
    }
    (res.locals as { admin?: AdminIdentity }).admin = { id: 'admin-token' };
    next();
  };
}
