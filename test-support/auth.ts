import { SignJWT } from 'jose';

/** The HS256 secret every test api verifies with (testEnv sets JWT_SECRET to it). */
export const TEST_JWT_SECRET = 'test-secret-for-jobstream-integration-tests-0123456789';

export type TestRole = 'admin' | 'service';

/** Topic grants of a test token unless a test says otherwise: every topic, so tests about other things may follow any. */
const ALL_TOPICS = ['*'];

/**
 * A token for `userId` signed with the test secret, valid for an hour unless `options.expiresIn`
 * says otherwise. `options.topics` is its `topics` claim (default `['*']`; `null`: no claim).
 */
export async function tokenFor(
  userId: string,
  roles: TestRole[] = [],
  options: { expiresIn?: string | number; secret?: string; issuedAt?: number; topics?: string[] | null; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const topics = options.topics === undefined ? ALL_TOPICS : options.topics;
  const jwt = new SignJWT({ roles, ...(topics === null ? {} : { topics }), ...options.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId);
  jwt.setIssuedAt(options.issuedAt);
  jwt.setExpirationTime(options.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** `{ authorization: 'Bearer <token>' }` for `userId`, ready to pass as request headers. */
export async function authHeaders(userId: string, roles: TestRole[] = [], options: { topics?: string[] | null } = {}): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await tokenFor(userId, roles, options)}` };
}

/** The user the suite's requests act as when a test does not say otherwise. */
export const DEFAULT_TEST_USER = 'test-user';

let defaultToken: Promise<string> | undefined;

/**
 * `headers` with the default test user's token added, unless they carry an `authorization` of
 * their own; an empty `authorization` means "send none" (an anonymous request).
 */
export async function withDefaultAuth(headers: Record<string, string>): Promise<Record<string, string>> {
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'authorization');
  if (name !== undefined) {
    if (headers[name] !== '') return headers;
    const { [name]: _dropped, ...rest } = headers;
    return rest;
  }
  defaultToken ??= tokenFor(DEFAULT_TEST_USER, [], { expiresIn: '6h' });
  return { ...headers, authorization: `Bearer ${await defaultToken}` };
}
