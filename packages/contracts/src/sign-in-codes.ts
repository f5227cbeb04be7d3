import { z } from 'zod';
import { roleSchema } from './me.js';

/**
 * A sign-in code: 32 random bytes, base64url. A link carries the code, never the token: the code is
 * good once and for two minutes, so a browser's history or a synced copy of it holds nothing usable.
 */
export const signInCodeSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not a sign-in code');

/** `POST /api/sign-in-codes`: a code for the token the request was made with. */
export const signInCodeResponseSchema = z.object({
  code: signInCodeSchema,
  /** When the code stops working (ISO 8601): two minutes at most, never after the token's own `exp`. */
  expiresAt: z.string(),
});
export type SignInCodeResponse = z.infer<typeof signInCodeResponseSchema>;

/** `POST /api/sign-in-codes/redeem`: the body. */
export const redeemSignInCodeRequestSchema = z.strictObject({ code: z.string().max(64) });
export type RedeemSignInCodeRequest = z.infer<typeof redeemSignInCodeRequestSchema>;

/** `POST /api/sign-in-codes/redeem`: the token the code stood for, and whose it is. */
export const redeemSignInCodeResponseSchema = z.object({
  token: z.string(),
  userId: z.string(),
  roles: z.array(roleSchema),
  /** The token's `exp` (ISO 8601). */
  expiresAt: z.string(),
});
export type RedeemSignInCodeResponse = z.infer<typeof redeemSignInCodeResponseSchema>;
