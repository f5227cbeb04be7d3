import { hash } from 'node:crypto';
import type { TokenVerifier, VerifiedToken } from './jwt-verifier.js';

/** Tokens one api process remembers by default (JWT_CACHE_MAX_ENTRIES). */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

export interface TokenCacheOptions {
  /** Verified tokens kept at most; the least recently used goes first. 0 turns the cache off. */
  maxEntries: number;
  /** The verifier's tolerance on `exp` (JWT_CLOCK_SKEW_S), so a cached token lapses exactly when jose would refuse it. */
  clockSkewS: number;
  /** Epoch milliseconds; default `Date.now`. */
  now?: () => number;
}

/**
 * Remembers tokens that verified, so a client that sends the same token on every request pays the
 * signature check and the claims parsing once. An entry is used only while jose would still accept
 * the token (`exp` later than now less the clock skew, in whole seconds as jose counts), and is
 * dropped once it lapses: an expired token is always verified again and refused as before. Tokens
 * that fail are never remembered, so every refusal keeps its reason. Entries are keyed by a SHA-256
 * of the token: the token itself is not kept. A key removed from the JWKS does not end the tokens
 * already verified with it before their `exp`.
 */
export function cachedVerifier(verify: TokenVerifier, options: TokenCacheOptions): TokenVerifier {
  if (options.maxEntries <= 0) return verify;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, VerifiedToken>();
  const usable = (verified: VerifiedToken): boolean => verified.expiresAt > Math.floor(now() / 1000) - options.clockSkewS;
  return async (token) => {
    const key = hash('sha256', token, 'base64url');
    const cached = entries.get(key);
    if (cached !== undefined) {
      entries.delete(key);
      if (usable(cached)) {
        entries.set(key, cached);
        return cached;
      }
    }
    const verified = await verify(token);
    // Checked again: a token verified within its last second of tolerance is not worth remembering.
    if (usable(verified)) {
      entries.set(key, verified);
      if (entries.size > options.maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
    }
    return verified;
  };
}
