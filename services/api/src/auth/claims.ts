import { userIdSchema } from '@jobstream/contracts';
import { ApiError } from '../http/api-error.js';
import { roles, type Role } from './principal.js';

/**
 * The user id from a token's `sub` or a gateway header; a 401 when it is not one. The id names the
 * user's Redis keys, so it must reach Redis byte for byte: an id with an unpaired surrogate would
 * be written as U+FFFD and share its keys with another (see `userIdSchema`).
 */
export function userIdFrom(value: unknown): string {
  const parsed = userIdSchema.safeParse(value);
  if (!parsed.success) {
    // A 401 names its scheme (RFC 9110 §11.6.1), like every other refused token.
    throw new ApiError(
      401,
      'INVALID_TOKEN',
      'The user id must be 1 to 256 characters of valid Unicode (no unpaired surrogates) without control characters',
      undefined,
      { 'WWW-Authenticate': 'Bearer realm="jobstream", error="invalid_token"' },
    );
  }
  return parsed.data;
}

/** Roles from a `roles` claim (array, or a comma- or space-separated string); unknown names are ignored. */
export function rolesFrom(value: unknown): Set<Role> {
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return new Set(names.filter((name): name is Role => typeof name === 'string' && (roles as readonly string[]).includes(name)));
}
