import { loadConfig as loadApiConfig, startApiServer, type ApiServer } from '@jobstream/api';
import { ConfigError } from '@jobstream/runtime';
import { Writable } from 'node:stream';
import pino from 'pino';
import { http } from '../test-support/http';
import { rawRequest } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';

const SECRET = 'gateway-secret-0123456789-abcdefghijklmnop';
const gatewayEnv = (overrides: Record<string, string> = {}) => ({ AUTH_MODE: 'gateway', JWT_SECRET: '', ...overrides });

/** `status code` and, for a 200, who the api took the caller for. */
async function me(apiUrl: string, headers: Record<string, string>): Promise<string> {
  const res = await http('GET', `${apiUrl}/api/me`, undefined, { authorization: '', ...headers });
  return res.status === 200 ? `200 ${res.body.userId} [${res.body.roles}]` : `${res.status} ${res.body?.code}`;
}

/** The problems loadConfig reports for `vars`, or 'accepted'. */
function problems(vars: Record<string, string>): string {
  try {
    loadApiConfig(vars);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  return 'accepted';
}

describe('AUTH_MODE=gateway trusts only requests that come through the gateway', () => {
  const started: ApiServer[] = [];
  let env: TestEnv;

  beforeEach(() => {
    env = testEnv();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  const api = async (overrides: Record<string, string>): Promise<ApiServer & { url: string }> => {
    const server = await startApi({ ...env, ...gatewayEnv(overrides) });
    started.push(server);
    return server;
  };

  it('refuses a request without the gateway secret or with a wrong one, of any length, with 401 GATEWAY_UNTRUSTED', async () => {
    const { url } = await api({ GATEWAY_SECRET: SECRET });
    const identity = { 'x-user-id': 'dave', 'x-user-role': 'admin' };
    const wrongSameLength = `${SECRET.slice(0, -1)}x`;
    expect({
      none: await me(url, identity),
      empty: await me(url, { ...identity, 'x-gateway-secret': '' }),
      sameLength: await me(url, { ...identity, 'x-gateway-secret': wrongSameLength }),
      shorter: await me(url, { ...identity, 'x-gateway-secret': SECRET.slice(0, 8) }),
      longer: await me(url, { ...identity, 'x-gateway-secret': `${SECRET}0` }),
      right: await me(url, { ...identity, 'x-gateway-secret': SECRET }),
    }).toEqual({
      none: '401 GATEWAY_UNTRUSTED',
      empty: '401 GATEWAY_UNTRUSTED',
      sameLength: '401 GATEWAY_UNTRUSTED',
      shorter: '401 GATEWAY_UNTRUSTED',
      longer: '401 GATEWAY_UNTRUSTED',
      right: '200 dave [admin]',
    });
    const refused = await http('GET', `${url}/api/me`, undefined, { authorization: '', ...identity });
    expect(refused.body.error).not.toContain(SECRET);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="jobstream"/);
  });

  it('refuses a repeated identity or secret header with 401 GATEWAY_UNTRUSTED, even with the right secret', async () => {
    const { url } = await api({ GATEWAY_SECRET: SECRET, GATEWAY_TOPICS_HEADER: 'x-user-topics' });
    const send = async (headers: Record<string, string>) => {
      const res = await rawRequest(url, 'GET', '/api/me', { headers: { authorization: '', 'x-gateway-secret': SECRET, 'x-user-id': 'dave', ...headers } });
      return res.status === 200 ? `200 [${res.body.roles}]` : `${res.status} ${res.body?.code}`;
    };
    // Two lines with one header name in different cases: what a gateway that appends instead of replacing forwards.
    expect(await send({ 'X-User-Role': 'user', 'x-user-role': 'admin' })).toBe('401 GATEWAY_UNTRUSTED');
    expect(await send({ 'X-User-Id': 'mallory' })).toBe('401 GATEWAY_UNTRUSTED');
    expect(await send({ 'X-User-Topics': '*', 'x-user-topics': 'news' })).toBe('401 GATEWAY_UNTRUSTED');
    expect(await send({ 'X-Gateway-Secret': SECRET })).toBe('401 GATEWAY_UNTRUSTED');
    const repeated = await rawRequest(url, 'GET', '/api/me', {
      headers: { authorization: '', 'x-gateway-secret': SECRET, 'x-user-id': 'dave', 'X-User-Role': 'user', 'x-user-role': 'admin' },
    });
    expect(repeated.body.error).toContain('x-user-role once');
    expect(await send({ 'x-user-role': 'admin' })).toBe('200 [admin]');
  });

  it('accepts requests from a trusted proxy address and refuses every other address', async () => {
    const identity = { 'x-user-id': 'erin', 'x-user-role': 'service' };
    const fromLoopback = await api({ GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.0/8' });
    expect(await me(fromLoopback.url, identity)).toBe('200 erin [service]');
    const elsewhere = await api({ GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8,::2,192.168.1.7' });
    expect(await me(elsewhere.url, identity)).toBe('401 GATEWAY_UNTRUSTED');
    // Both set: the address and the secret must both hold.
    const both = await api({ GATEWAY_TRUSTED_PROXIES: '127.0.0.1', GATEWAY_SECRET: SECRET });
    expect(await me(both.url, identity)).toBe('401 GATEWAY_UNTRUSTED');
    expect(await me(both.url, { ...identity, 'x-gateway-secret': SECRET })).toBe('200 erin [service]');
  });

  it('refuses to start with NODE_ENV=production without a secret or trusted proxies, and never shows the secret', () => {
    const production = { NODE_ENV: 'production', ...gatewayEnv() };
    expect(problems(production)).toContain('AUTH_MODE: AUTH_MODE=gateway with NODE_ENV=production needs GATEWAY_SECRET or GATEWAY_TRUSTED_PROXIES');
    expect(problems({ ...production, GATEWAY_SECRET: SECRET })).toBe('accepted');
    expect(problems({ ...production, GATEWAY_TRUSTED_PROXIES: '10.1.2.3' })).toBe('accepted');
    expect(problems(gatewayEnv())).toBe('accepted');

    const weak = 'short-secret-value';
    const weakProblems = problems({ ...production, GATEWAY_SECRET: weak });
    expect(weakProblems).toContain('GATEWAY_SECRET: must be at least 32 printable ASCII characters without spaces');
    expect(weakProblems).not.toContain(weak);
    expect(problems(gatewayEnv({ GATEWAY_TRUSTED_PROXIES: '10.0.0.0/33,gateway.local' }))).toBe(
      [
        'GATEWAY_TRUSTED_PROXIES: "10.0.0.0/33" is not an IP address or CIDR range (10.0.0.0/8, ::1) (got "10.0.0.0/33,gateway.local")',
        'GATEWAY_TRUSTED_PROXIES: "gateway.local" is not an IP address or CIDR range (10.0.0.0/8, ::1) (got "10.0.0.0/33,gateway.local")',
      ].join('\n'),
    );
    expect(problems(gatewayEnv({ GATEWAY_SECRET_HEADER: 'X-User-Id' }))).toContain("the gateway's user, role, topics and secret headers must have different names");
  });

  it('warns at start without a trust setting outside production, and never logs the secret', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const open = await startApiServer(loadApiConfig({ ...env, ...gatewayEnv() }), pino({ level: 'debug' }, sink));
    started.push(open);
    expect(lines.join('')).toMatch(/"level":40[^\n]*AUTH_MODE=gateway without GATEWAY_SECRET or GATEWAY_TRUSTED_PROXIES/);

    lines.length = 0;
    const guarded = await startApiServer(loadApiConfig({ ...env, ...gatewayEnv({ GATEWAY_SECRET: SECRET, LOG_LEVEL: 'debug' }) }), pino({ level: 'debug' }, sink));
    started.push(guarded);
    const url = `http://127.0.0.1:${guarded.port}`;
    expect(await me(url, { 'x-user-id': 'dave', 'x-gateway-secret': SECRET })).toBe('200 dave []');
    expect(await me(url, { 'x-user-id': 'dave', 'x-gateway-secret': `${SECRET}x` })).toBe('401 GATEWAY_UNTRUSTED');
    const log = lines.join('');
    expect(log).toContain('AUTH_MODE=gateway: trusting identity headers');
    expect(log).not.toMatch(/"level":40[^\n]*AUTH_MODE=gateway without/);
    expect(log).toContain('"status":401');
    expect(log).not.toContain(SECRET);
  });
});
