import { loadConfig as loadApiConfig, startApiServer, type ApiServer } from '@jobstream/api';
import { ConfigError } from '@jobstream/runtime';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { authHeaders, DEFAULT_TEST_USER, TEST_JWT_SECRET, tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { freePort } from '../test-support/redis-server';
import { connectSse } from '../test-support/sse-client';
import { cleanupPrefix, spawnService, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';

const anonymous = { authorization: '' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const enqueue = (url: string, headers: Record<string, string> = {}, body: Record<string, unknown> = {}) =>
  http('POST', `${url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 50 }, ...body }, headers);

describe('authentication', () => {
  const started: { close(): Promise<void> }[] = [];
  let env: Record<string, string>;

  beforeEach(() => {
    env = testEnv();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const api = async (overrides: Record<string, string> = {}): Promise<ApiServer & { url: string }> => {
    const server = await startApi({ ...env, ...overrides });
    started.push(server);
    return server;
  };

  describe('AUTH_MODE=jwt with a shared secret', () => {
    it('takes the user from sub and the roles from the roles claim; unknown roles give nothing', async () => {
      const { url } = await api();
      const me = await http('GET', `${url}/api/me`, undefined, await authHeaders('alice', ['admin']));
      expect(me).toMatchObject({ status: 200, body: { userId: 'alice', roles: ['admin'], authMode: 'jwt' } });
      const odd = await tokenFor('bob', [], { claims: { roles: 'service superuser' } });
      expect((await http('GET', `${url}/api/me`, undefined, bearer(odd))).body).toMatchObject({ userId: 'bob', roles: ['service'] });
    });

    it('refuses a request without a token with 401 AUTH_REQUIRED and a Bearer challenge', async () => {
      const { url } = await api();
      const res = await enqueue(url, anonymous);
      expect(res).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="jobstream"/);
    });

    it('answers TOKEN_EXPIRED for an expired token but accepts one inside the clock skew', async () => {
      const { url } = await api({ JWT_CLOCK_SKEW_S: '30' });
      const now = Math.floor(Date.now() / 1000);
      const expired = await tokenFor('alice', [], { issuedAt: now - 3_600, expiresIn: now - 60 });
      expect((await http('GET', `${url}/api/me`, undefined, bearer(expired))).body.code).toBe('TOKEN_EXPIRED');
      const justExpired = await tokenFor('alice', [], { issuedAt: now - 3_600, expiresIn: now - 10 });
      expect((await http('GET', `${url}/api/me`, undefined, bearer(justExpired))).status).toBe(200);
    });

    it('checks the issuer and the audience when they are configured', async () => {
      const { url } = await api({ JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'jobstream' });
      const sign = (claims: Record<string, unknown>) =>
        new SignJWT({ roles: [] })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setIssuedAt()
          .setExpirationTime('5m')
          .setIssuer(String(claims.iss))
          .setAudience(String(claims.aud))
          .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      expect((await http('GET', `${url}/api/me`, undefined, bearer(await sign({ iss: 'https://id.example', aud: 'jobstream' })))).status).toBe(200);
      const wrongIssuer = await http('GET', `${url}/api/me`, undefined, bearer(await sign({ iss: 'https://evil.example', aud: 'jobstream' })));
      expect(wrongIssuer.body.code).toBe('INVALID_TOKEN');
      const wrongAudience = await http('GET', `${url}/api/me`, undefined, bearer(await sign({ iss: 'https://id.example', aud: 'other' })));
      expect(wrongAudience.body.code).toBe('INVALID_TOKEN');
    });
  });

  describe('a token in access_token', () => {
    it('opens a job stream with a short-lived token and refuses a long-lived one', async () => {
      const { url } = await api({ ACCESS_TOKEN_MAX_TTL_S: '600' });
      started.push(await startWorker(env));
      const job = await enqueue(url);
      const short = await tokenFor(DEFAULT_TEST_USER, [], { expiresIn: '5m' });
      const stream = await connectSse(`${url}/api/jobs/${job.body.jobId}/events?access_token=${short}`, anonymous);
      expect(stream.status).toBe(200);
      await stream.ended;
      expect(stream.lifecycle().at(-1)?.event).toBe('completed');

      const long = await tokenFor(DEFAULT_TEST_USER, [], { expiresIn: '2h' });
      const refused = await http('GET', `${url}/api/jobs/${job.body.jobId}/events?access_token=${long}`, undefined, anonymous);
      expect(refused).toMatchObject({ status: 401, body: { code: 'INVALID_TOKEN' } });
      expect(refused.body.error).toContain('must expire within 600 s');
    });

    it('is refused on routes that are not streams', async () => {
      const { url } = await api();
      const short = await tokenFor(DEFAULT_TEST_USER, [], { expiresIn: '5m' });
      const res = await http('GET', `${url}/api/me?access_token=${short}`, undefined, anonymous);
      expect(res).toMatchObject({ status: 401, body: { code: 'INVALID_TOKEN' } });
    });

    it('never appears in the api logs, not even for a refused request', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      });
      const server = await startApiServer(loadApiConfig({ ...env, LOG_LEVEL: 'debug' }), pino({ level: 'debug' }, sink));
      started.push(server);
      const url = `http://127.0.0.1:${server.port}`;
      const job = await enqueue(url);
      const short = await tokenFor(DEFAULT_TEST_USER, [], { expiresIn: '5m' });
      const ok = await connectSse(`${url}/api/jobs/${job.body.jobId}/events?access_token=${short}`, anonymous);
      ok.close();
      await http('GET', `${url}/api/me?access_token=${short}`, undefined, anonymous);
      await http('GET', `${url}/api/jobs/${job.body.jobId}/events?access_token=not.a.token`, undefined, anonymous);
      const log = lines.join('');
      expect(log).toContain(`/jobs/${job.body.jobId}/events`);
      expect(log).not.toContain(short);
      expect(log).not.toContain('not.a.token');
      expect(log).not.toContain('access_token');
    });
  });

  describe('AUTH_MODE=jwt with the keys of an identity provider (JWKS)', () => {
    let jwks: Server;
    let jwksUrl: string;
    let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
    let ec: Awaited<ReturnType<typeof generateKeyPair>>;
    let served: JWK[];

    beforeAll(async () => {
      rsa = await generateKeyPair('RS256');
      ec = await generateKeyPair('ES256');
      served = [
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      ];
      jwks = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: served })));
      jwks.listen(0, '127.0.0.1');
      await once(jwks, 'listening');
      jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    });

    afterAll(() => {
      jwks.close();
    });

    const signed = (alg: 'RS256' | 'ES256', kid: string, key: CryptoKey, roles: string[] = []) =>
      new SignJWT({ roles }).setProtectedHeader({ alg, kid }).setSubject('carol').setIssuedAt().setExpirationTime('5m').sign(key);

    it('accepts RS256 and ES256 tokens signed with the published keys', async () => {
      const { url } = await api({ JWT_SECRET: '', JWT_JWKS_URL: jwksUrl });
      const viaRsa = await http('GET', `${url}/api/me`, undefined, bearer(await signed('RS256', 'rsa-1', rsa.privateKey, ['admin'])));
      expect(viaRsa.body).toEqual({ userId: 'carol', roles: ['admin'], authMode: 'jwt', topics: ['*'] });
      const viaEc = await http('GET', `${url}/api/me`, undefined, bearer(await signed('ES256', 'ec-1', ec.privateKey)));
      expect(viaEc.body).toMatchObject({ userId: 'carol', roles: [] });
    });

    it('refuses a token from an unknown key, an HS256 token signed with the public key, and an HS256 token when no secret is configured', async () => {
      const { url } = await api({ JWT_SECRET: '', JWT_JWKS_URL: jwksUrl });
      const stranger = await generateKeyPair('RS256');
      const unknownKey = await http('GET', `${url}/api/me`, undefined, bearer(await signed('RS256', 'rsa-1', stranger.privateKey)));
      expect(unknownKey.body.code).toBe('INVALID_TOKEN');
      // Algorithm confusion: the public key's JWK used as an HMAC secret.
      const confused = await new SignJWT({ roles: ['admin'] })
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .setSubject('mallory')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(JSON.stringify(served[0])));
      expect((await http('GET', `${url}/api/me`, undefined, bearer(confused))).body.code).toBe('INVALID_TOKEN');
      const hs = await tokenFor('mallory', ['admin']);
      expect((await http('GET', `${url}/api/me`, undefined, bearer(hs))).body.code).toBe('INVALID_TOKEN');
    });

    it('answers 503 AUTH_UNAVAILABLE with Retry-After while the key server cannot be reached', async () => {
      const closedPort = await freePort();
      const { url } = await api({ JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${closedPort}/jwks.json` });
      const res = await http('GET', `${url}/api/me`, undefined, bearer(await signed('RS256', 'rsa-1', rsa.privateKey)));
      expect(res).toMatchObject({ status: 503, body: { code: 'AUTH_UNAVAILABLE' } });
      expect(res.headers.get('retry-after')).toBe('5');
    });
  });

  describe('AUTH_MODE=gateway', () => {
    // What the gateway adds to every request it forwards (test/gateway-trust.test.ts: what happens without it).
    const GATEWAY_SECRET = 'gateway-secret-for-auth-mode-tests-0123456789';
    const viaGateway = { 'x-gateway-secret': GATEWAY_SECRET };

    it('takes the user and roles from the gateway headers and ignores an Authorization header', async () => {
      const { url } = await api({ AUTH_MODE: 'gateway', JWT_SECRET: '', GATEWAY_SECRET });
      const me = await http('GET', `${url}/api/me`, undefined, { ...viaGateway, 'x-user-id': 'dave', 'x-user-role': 'admin, service', authorization: '' });
      expect(me.body).toEqual({ userId: 'dave', roles: ['admin', 'service'], authMode: 'gateway', topics: ['*'] });
      const status = await http('GET', `${url}/api/admin/budget/status`, undefined, { ...viaGateway, 'x-user-id': 'dave', 'x-user-role': 'admin', authorization: '' });
      expect(status.status).toBe(200);
      const forged = await http('GET', `${url}/api/me`, undefined, { ...viaGateway, ...(await authHeaders('eve', ['admin'])) });
      expect(forged).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
    });

    it('uses the configured header names', async () => {
      const { url } = await api({
        AUTH_MODE: 'gateway',
        JWT_SECRET: '',
        GATEWAY_SECRET,
        GATEWAY_SECRET_HEADER: 'X-Proxy-Token',
        GATEWAY_USER_HEADER: 'X-Forwarded-User',
        GATEWAY_ROLE_HEADER: 'X-Forwarded-Groups',
      });
      const proof = { 'x-proxy-token': GATEWAY_SECRET };
      const me = await http('GET', `${url}/api/me`, undefined, { ...proof, 'x-forwarded-user': 'frank', 'x-forwarded-groups': 'service', authorization: '' });
      expect(me.body).toMatchObject({ userId: 'frank', roles: ['service'] });
      expect(await http('GET', `${url}/api/me`, undefined, { ...proof, 'x-user-id': 'frank', authorization: '' })).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
      const defaultSecretHeader = await http('GET', `${url}/api/me`, undefined, { ...viaGateway, 'x-forwarded-user': 'frank', authorization: '' });
      expect(defaultSecretHeader).toMatchObject({ status: 401, body: { code: 'GATEWAY_UNTRUSTED' } });
    });
  });

  describe('AUTH_MODE=none', () => {
    it('acts as the admin user demo and says so loudly in the log at start', async () => {
      const port = String(await freePort());
      const proc = await spawnService('api', { ...env, AUTH_MODE: 'none', JWT_SECRET: '', PORT: port });
      try {
        expect(proc.output()).toMatch(/"level":40[^\n]*AUTH_MODE=none: every request acts as the admin user/);
        const me = await http('GET', `${proc.url}/api/me`, undefined, anonymous);
        expect(me.body).toEqual({ userId: 'demo', roles: ['admin', 'service'], authMode: 'none', topics: ['*'] });
      } finally {
        await proc.stop();
      }
    });

    it('is refused at start with NODE_ENV=production, and jwt without a key source is refused too', () => {
      const problems = (vars: Record<string, string>) => {
        try {
          loadApiConfig(vars);
        } catch (err) {
          if (err instanceof ConfigError) return err.problems.join('\n');
        }
        return 'accepted';
      };
      expect(problems({ AUTH_MODE: 'none', NODE_ENV: 'production' })).toContain('AUTH_MODE: AUTH_MODE=none is refused with NODE_ENV=production');
      expect(problems({})).toContain('JWT_SECRET: AUTH_MODE=jwt needs JWT_SECRET (HS256) or JWT_JWKS_URL');
      expect(problems({ AUTH_MODE: 'none' })).toBe('accepted');
    });
  });

  describe('ownership', () => {
    it("answers 404 for another user's job on every route, exactly as for a missing one; admins see it", async () => {
      const { url } = await api();
      const alice = await authHeaders('alice');
      const bob = await authHeaders('bob');
      const job = await enqueue(url, alice);
      const jobId = job.body.jobId as string;
      expect((await http('GET', `${url}/api/jobs/${jobId}`, undefined, alice)).status).toBe(200);

      const missing = await http('GET', `${url}/api/jobs/00000000-0000-4000-8000-000000000000`, undefined, bob);
      for (const path of [`/api/jobs/${jobId}`, `/api/job-status/${jobId}`, `/api/jobs/${jobId}/events`, `/api/job-events?jobId=${jobId}`]) {
        const res = await http('GET', `${url}${path}`, undefined, { ...bob, accept: 'text/event-stream' });
        expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 404, code: 'JOB_NOT_FOUND' });
        expect(Object.keys(res.body).sort()).toEqual(Object.keys(missing.body).sort());
      }
      const admin = await http('GET', `${url}/api/jobs/${jobId}`, undefined, await authHeaders('ops', ['admin']));
      expect(admin.body).toMatchObject({ jobId, type: 'demo.work' });
    });

    it('keeps idempotency keys per user: the same key names one job per user', async () => {
      const { url } = await api();
      const alice = await authHeaders('alice');
      const bob = await authHeaders('bob');
      const first = await enqueue(url, alice, { idempotencyKey: 'order-42' });
      const again = await enqueue(url, alice, { idempotencyKey: 'order-42' });
      const other = await enqueue(url, bob, { idempotencyKey: 'order-42' });
      expect(again.body.jobId).toBe(first.body.jobId);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(other.status).toBe(202);
      expect(other.body.jobId).not.toBe(first.body.jobId);
      expect(other.headers.get('idempotent-replayed')).toBeNull();
      expect((await http('GET', `${url}/api/jobs/${first.body.jobId}`, undefined, bob)).status).toBe(404);
    });
  });
});
