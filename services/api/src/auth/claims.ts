import { ApiError } from '../http/api-error.js';
import { roles, type Role } from './principal.js';

/** Control characters would let a user id forge log lines or SSE fields. */
const USER_ID = /^[^\p{Cc}]{1,256}$/u;

/** The user id from a token's `sub` or a gateway header; a 401 when it is not one. */
export function userIdFrom(value: unknown): string {
  if (typeof value !== 'string' || !USER_ID.test(value)) {
    // A 401 names its scheme (RFC 9110 §11.6.1), like every other refused token.
    throw new ApiError(401, 'INVALID_TOKEN', 'The user id must be 1 to 256 characters without control characters', undefined, {
      'WWW-Authenticate': 'Bearer realm="jobstream", error="invalid_token"',
    });
  }
  return value;
}

/** Roles from a `roles` claim (array, or a comma- or space-separated string); unknown names are ignored. */
export function rolesFrom(value: unknown): Set<Role> {
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return new Set(names.filter((name): name is Role => typeof name === 'string' && (roles as readonly string[]).includes(name)));
}
