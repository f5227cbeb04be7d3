import { loadConfig, type ApiServer } from '@jobstream/api';
import { apiErrorBodySchema, redeemSignInCodeResponseSchema, signInCodeResponseSchema } from '@jobstream/contracts';
import { jobstreamKeys, type JobstreamKeys } from '@jobstream/runtime';
import { Redis } from 'ioredis';
import { tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { rawRequest } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';

/*
 * Sign-in codes: a link carries a code good once and for two minutes, never the token. Redeeming is
 * public, so every way a stranger can push on it answers 4xx, never a token it should not get.
 */

let env: TestEnv;
let api: ApiServer & { url: string };
let redis: Redis;
let keys: JobstreamKeys;

beforeEach(async () => {
  env = testEnv();
  api = await startApi(env);
  keys = jobstreamKeys(loadConfig(env).queue);
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});

afterEach(async () => {
  await api.close();
  redis.disconnect();
  await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
});

const url = (path: string): string => `${api.url}${path}`;
const anonymous = { authorization: '' };
const outcome = (res: { status: number; body: any }): string => `${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`;

async function codeFor(token: string): Promise<{ code: string; expiresAt: string }> {
  const res = await http('POST', url('/api/sign-in-codes'), {}, { authorization: `Bearer ${token}` });
  expect(res.status).toBe(201);
  return signInCodeResponseSchema.parse(res.body);
}

const redeem = (body: unknown) => http('POST', url('/api/sign-in-codes/redeem'), body, anonymous);

it("redeems another user's code, without a token, to that user's token exactly once", async () => {
  const token = await tokenFor('bob', ['admin']);
  const { code, expiresAt } = await codeFor(token);
  const ttlMs = Date.parse(expiresAt) - Date.now();
  expect(ttlMs).toBeGreaterThan(110_000);
  expect(ttlMs).toBeLessThanOrEqual(120_000);

  const first = await redeem({ code });
  expect(first.status).toBe(200);
  expect(first.headers.get('cache-control')).toBe('no-store');
  expect(redeemSignInCodeResponseSchema.parse(first.body)).toMatchObject({ token, userId: 'bob', roles: ['admin'] });
  // The token handed back is the one the code was made with, and it works.
  expect((await http('GET', url('/api/me'), undefined, { authorization: `Bearer ${first.body.token}` })).body.userId).toBe('bob');

  const second = await redeem({ code });
  expect(outcome(second)).toBe('404 SIGN_IN_CODE_INVALID');
  apiErrorBodySchema.parse(second.body);
});

it('answers an expired code as it answers an unknown one: 404 SIGN_IN_CODE_INVALID', async () => {
  const { code } = await codeFor(await tokenFor('alice'));
  // Expiry is Redis's own PX: the key is gone, as two minutes later.
  await redis.pexpire(keys.signInCode(code), 1);
  while ((await redis.exists(keys.signInCode(code))) === 1) await new Promise((resolve) => setImmediate(resolve));
  expect(outcome(await redeem({ code }))).toBe('404 SIGN_IN_CODE_INVALID');
  expect(outcome(await redeem({ code: 'B'.repeat(43) }))).toBe('404 SIGN_IN_CODE_INVALID');
});

it('never lets a code outlive the token it stands for', async () => {
  const token = await tokenFor('alice', [], { expiresIn: '30s' });
  const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp as number;
  const { code, expiresAt } = await codeFor(token);
  expect(Date.parse(expiresAt)).toBeLessThanOrEqual(exp * 1_000);
  expect(await redis.pttl(keys.signInCode(code))).toBeLessThanOrEqual(30_000);
});

it('refuses to issue a code without a token: 401', async () => {
  const res = await http('POST', url('/api/sign-in-codes'), {}, anonymous);
  expect(outcome(res)).toBe('401 AUTH_REQUIRED');
});

it.each([
  ['a 10 KB code', { code: 'A'.repeat(10_240) }, '400 VALIDATION_FAILED'],
  ['a code with CR LF', { code: `${'A'.repeat(20)}\r\n${'A'.repeat(21)}` }, '404 SIGN_IN_CODE_INVALID'],
  ['an array body', [{ code: 'A'.repeat(43) }], '400 VALIDATION_FAILED'],
  ['a number for the code', { code: 43 }, '400 VALIDATION_FAILED'],
  ['an unknown field', { code: 'A'.repeat(43), token: 'x' }, '400 VALIDATION_FAILED'],
])('answers %s with a 4xx, never a 500', async (_name, body, expected) => {
  const res = await redeem(body);
  expect(outcome(res)).toBe(expected);
  apiErrorBodySchema.parse(res.body);
});

it('answers a redeem that is not JSON with 400 INVALID_JSON', async () => {
  const res = await rawRequest(api.url, 'POST', '/api/sign-in-codes/redeem', { headers: { 'content-type': 'application/json', authorization: '' }, body: '{"cod' });
  expect(res.status).toBe(400);
  expect(res.body?.code).toBe('INVALID_JSON');
});

it('bounds redeeming per client address: 429 RATE_LIMITED with Retry-After', async () => {
  const answers: string[] = [];
  // 600 a minute: sized for every client behind one proxy sharing the address.
  for (let i = 0; i < 600; i++) answers.push(outcome(await redeem({ code: 'C'.repeat(43) })));
  expect(answers.every((a) => a === '404 SIGN_IN_CODE_INVALID')).toBe(true);
  const refused = await redeem({ code: 'C'.repeat(43) });
  expect(outcome(refused)).toBe('429 RATE_LIMITED');
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
});

it('issues no code where the Authorization header is not what authenticated the caller (AUTH_MODE=none): 400, never a 500', async () => {
  const noneEnv = testEnv({ AUTH_MODE: 'none' });
  const open = await startApi(noneEnv);
  try {
    for (const authorization of ['Bearer not.a-jwt.at-all', 'Bearer x', '']) {
      const res = await http('POST', `${open.url}/api/sign-in-codes`, {}, { authorization });
      expect(outcome(res)).toBe('400 VALIDATION_FAILED');
    }
  } finally {
    await open.close();
    await cleanupPrefix(testRedisUrl(), noneEnv.QUEUE_PREFIX);
  }
});
