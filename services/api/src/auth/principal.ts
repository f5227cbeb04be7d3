import { roles, type Role } from '@jobstream/contracts';
import { ApiError } from '../http/api-error.js';
import type { RequestLocals } from '../http/request-context.js';

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

const PRINCIPAL = 'principal';

function principalIn(res: RequestLocals): Principal | undefined {
  return res.locals[PRINCIPAL] as Principal | undefined;
}

/** Records the caller on the response, for the routes after the middleware. */
export function setPrincipal(res: RequestLocals, principal: Principal): void {
  res.locals[PRINCIPAL] = principal;
}

/** The authenticated caller; a route behind the auth middleware always has one. */
export function principalOf(res: RequestLocals): Principal {
  const principal = principalIn(res);
  if (!principal) throw new ApiError(401, 'AUTH_REQUIRED', 'This route needs an authenticated caller');
  return principal;
}

/** The authenticated caller's user id, or undefined before authentication or without it. */
export function callerIdOf(res: RequestLocals): string | undefined {
  return principalIn(res)?.userId;
}

export const hasRole = (principal: Principal, role: Role): boolean => principal.roles.has(role);
