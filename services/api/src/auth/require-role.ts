import type { RequestHandler } from 'express';
import { ApiError } from '../http/api-error.js';
import { principalOf, type Role } from './principal.js';

/** Lets the request through when the caller has any of `allowed` (admins may do what services may). */
export function requireRole(...allowed: Role[]): RequestHandler {
  const names = allowed.join(' or ');
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (!allowed.some((role) => principal.roles.has(role))) {
      throw new ApiError(403, 'FORBIDDEN', `This route needs the ${names} role`);
    }
    next();
  };
}
