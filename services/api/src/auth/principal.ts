import { roles, type Role } from '@jobstream/contracts';
import type { Response } from 'express';
import { ApiError } from '../http/api-error.js';

/** Roles beyond a plain user (defined in the contracts package). */
export { roles, type Role };

/** Who is calling, as the authentication middleware established it. */
export interface Principal {
  /** The user id: the token's `sub`, the gateway's user header, or the demo user. */
  userId: string;
  roles: ReadonlySet<Role>;
  /**
   * Topic patterns the caller may follow beyond what its roles allow (see auth/topic-grants.ts):
   * the public namespace and the grants of its token or gateway. Absent: none.
   */
  topics?: readonly string[];
}

interface Locals {
  principal?: Principal;
}

/** Records the caller on the response, for the routes after the middleware. */
export function setPrincipal(res: Response, principal: Principal): void {
  (res.locals as Locals).principal = principal;
}

/** The authenticated caller; a route behind the auth middleware always has one. */
export function principalOf(res: Response): Principal {
  const principal = (res.locals as Locals).principal;
  if (!principal) throw new ApiError(401, 'AUTH_REQUIRED', 'This route needs an authenticated caller');
  return principal;
}

/** The authenticated caller's user id, or undefined before authentication or without it. */
export function callerIdOf(res: Response): string | undefined {
  return (res.locals as Locals).principal?.userId;
}

export const hasRole = (principal: Principal, role: Role): boolean => principal.roles.has(role);
