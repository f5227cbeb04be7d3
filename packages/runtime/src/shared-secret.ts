import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.js';

/**
 * The secret stored at `key`, made (32 random bytes, hex) by whichever process asks first: every
 * replica of a deployment gets the same one without any configuration. Anyone who can read Redis
 * can read it, which gives them nothing they could not read there already.
 */
export async function sharedSecret(redis: RedisClient, key: string): Promise<string> {
  await redis.set(key, randomBytes(32).toString('hex'), 'NX');
  const secret = await redis.get(key);
  if (!secret) throw new Error(`the shared secret at ${key} could not be read back`);
  return secret;
}
