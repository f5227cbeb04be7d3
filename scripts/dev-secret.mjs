// The development JWT secret shared by `npm start` and `npm run token` on one machine: a random
// 32-byte secret in <repo>/.data/dev-jwt-secret (git-ignored, readable by its owner only),
// created on first use. JWT_SECRET in the environment always wins over it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const devSecretPath = join(root, '.data', 'dev-jwt-secret');

/** The secret to sign and verify with: JWT_SECRET, else the development secret (created when `create`). */
export function jwtSecret(env = process.env, { create = false } = {}) {
  if (env.JWT_SECRET) return { secret: env.JWT_SECRET, source: 'JWT_SECRET' };
  if (existsSync(devSecretPath)) return { secret: readFileSync(devSecretPath, 'utf8').trim(), source: devSecretPath };
  if (!create) return undefined;
  mkdirSync(dirname(devSecretPath), { recursive: true });
  writeFileSync(devSecretPath, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return { secret: readFileSync(devSecretPath, 'utf8').trim(), source: devSecretPath };
}
