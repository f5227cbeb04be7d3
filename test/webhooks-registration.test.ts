import type { ApiServer } from '@jobstream/api';
import { webhookEndpointSchema, webhookListResponseSchema } from '@jobstream/contracts';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';

describe('webhook endpoint registration', () => {
  let env: TestEnv;
  let api: (ApiServer & { url: string }) | undefined;

  const start = async (overrides: Record<string, string> = {}) => {
    env = testEnv(overrides);
    api = await startApi(env);
    return api;
  };

  afterEach(async () => {
    await api?.close();
    api = undefined;
    if (env) await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('registers an endpoint, answers its secret once, and lists it without the secret', async () => {
    const { url } = await start({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    const created = await http('POST', `${url}/api/webhooks`, { url: 'http://127.0.0.1:9/hooks', events: ['job.completed', 'notification'], description: 'billing' });
    expect(created.status).toBe(201);
    const endpoint = webhookEndpointSchema.parse(created.body);
    expect(endpoint).toMatchObject({ url: 'http://127.0.0.1:9/hooks', events: ['job.completed', 'notification'], description: 'billing', enabled: true, disabledReason: null });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.headers.get('location')).toBe(`/api/webhooks/${endpoint.id}`);

    const list = await http('GET', `${url}/api/webhooks`);
    expect(list.status).toBe(200);
    const { webhooks } = webhookListResponseSchema.parse(list.body);
    expect(webhooks).toEqual([{ ...endpoint, secret: undefined }].map(({ secret: _s, ...rest }) => rest));
  });

  it.each([
    ['the loopback address', 'http://127.0.0.1/hook'],
    ['a DNS name resolving to loopback', 'http://localhost:8080/hook'],
    ['a private address', 'http://10.0.0.5/hook'],
    ['a private address in the 172.16/12 range', 'https://172.20.1.1/hook'],
    ['a home-network address', 'http://192.168.1.1/hook'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['a CGNAT address', 'http://100.64.0.1/hook'],
    ['a multicast address', 'http://224.0.0.1/hook'],
    ['the unspecified address', 'http://0.0.0.0:3000/hook'],
    ['IPv6 loopback', 'http://[::1]/hook'],
    ['IPv6 link-local', 'http://[fe80::1]/hook'],
    ['IPv6 unique-local (AWS metadata)', 'http://[fd00:ec2::254]/hook'],
    ['IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]/hook'],
    ['IPv4-mapped IPv6 loopback in hex', 'http://[::ffff:7f00:1]/hook'],
    ['a decimal-encoded loopback address', 'http://2130706433/hook'],
    ['a non-http scheme', 'ftp://example.com/hook'],
    ['a file URL', 'file:///etc/passwd'],
    ['credentials in the URL', 'https://user:pass@example.com/hook'],
    ['a relative URL', '/api/jobs'],
  ])('refuses %s at registration with WEBHOOK_TARGET_REFUSED', async (_what, target) => {
    const { url } = await start();
    const res = await http('POST', `${url}/api/webhooks`, { url: target, events: ['job.completed'] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'WEBHOOK_TARGET_REFUSED', details: [{ path: 'url' }] });
    expect((await http('GET', `${url}/api/webhooks`)).body).toEqual({ webhooks: [] });
  });

  it('says which address a name resolved to when it refuses it', async () => {
    const { url } = await start();
    const byName = await http('POST', `${url}/api/webhooks`, { url: 'http://localhost/hook', events: ['job.completed'] });
    expect(byName.body.error).toMatch(/^Webhook target refused: localhost resolves to (127\.0\.0\.1|::1), an address webhooks may not reach$/);
    const byAddress = await http('POST', `${url}/api/webhooks`, { url: 'http://169.254.169.254/', events: ['job.completed'] });
    expect(byAddress.body.error).toBe('Webhook target refused: 169.254.169.254 is an address webhooks may not reach');
  });

  it('lets an operator allow a private range with a CIDR in WEBHOOK_ALLOWED_HOSTS', async () => {
    const { url } = await start({ WEBHOOK_ALLOWED_HOSTS: '10.0.0.0/8' });
    expect((await http('POST', `${url}/api/webhooks`, { url: 'http://10.1.2.3/hook', events: ['job.failed'] })).status).toBe(201);
    expect((await http('POST', `${url}/api/webhooks`, { url: 'http://127.0.0.1/hook', events: ['job.failed'] })).body.code).toBe('WEBHOOK_TARGET_REFUSED');
  });

  it.each([
    ['no events', { url: 'http://127.0.0.1/h', events: [] }, 'events'],
    ['an unknown event type', { url: 'http://127.0.0.1/h', events: ['job.deleted'] }, 'events.0'],
    ['a repeated event type', { url: 'http://127.0.0.1/h', events: ['notification', 'notification'] }, 'events'],
    ['a URL longer than 2,048 characters', { url: `http://127.0.0.1/${'a'.repeat(2_100)}`, events: ['notification'] }, 'url'],
    ['an unknown field', { url: 'http://127.0.0.1/h', events: ['notification'], secret: 'mine' }, 'secret'],
    ['a url that is not a string', { url: { href: 'http://127.0.0.1/' }, events: ['notification'] }, 'url'],
    ['a thousand event types', { url: 'http://127.0.0.1/h', events: Array(1_000).fill('notification') }, 'events'],
    ['a description of 201 characters', { url: 'http://127.0.0.1/h', events: ['notification'], description: 'd'.repeat(201) }, 'description'],
  ])('answers a registration with %s 400 VALIDATION_FAILED naming the field', async (_what, body, path) => {
    const { url } = await start({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    const res = await http('POST', `${url}/api/webhooks`, body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('caps the endpoints of one user, and not those of another', async () => {
    const { url } = await start({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_MAX_ENDPOINTS_PER_USER: '2' });
    const body = { url: 'http://127.0.0.1:9/h', events: ['notification'] };
    const answers = await Promise.all([1, 2, 3, 4].map(() => http('POST', `${url}/api/webhooks`, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 429, 429]);
    expect(answers.find((a) => a.status === 429)?.body.code).toBe('WEBHOOK_QUOTA_EXCEEDED');
    expect((await http('POST', `${url}/api/webhooks`, body, await authHeaders('bob'))).status).toBe(201);
    // Deleting one makes room again.
    const [first] = (await http('GET', `${url}/api/webhooks`)).body.webhooks;
    expect((await http('DELETE', `${url}/api/webhooks/${first.id}`)).status).toBe(204);
    expect((await http('POST', `${url}/api/webhooks`, body)).status).toBe(201);
  });

  it("answers another user's endpoint id 404 on every route and leaves the endpoint alone", async () => {
    const { url } = await start({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    const alice = await authHeaders('alice');
    const mallory = await authHeaders('mallory');
    const created = await http('POST', `${url}/api/webhooks`, { url: 'http://127.0.0.1:9/h', events: ['notification'] }, alice);
    const id = created.body.id as string;
    const attempts = [
      await http('DELETE', `${url}/api/webhooks/${id}`, undefined, mallory),
      await http('POST', `${url}/api/webhooks/${id}/rotate-secret`, {}, mallory),
      await http('GET', `${url}/api/webhooks/${id}/deliveries`, undefined, mallory),
      await http('POST', `${url}/api/webhooks/${id}/deliveries/1-0_${id}/redeliver`, {}, mallory),
    ];
    expect(attempts.map((a) => `${a.status} ${a.body.code}`)).toEqual(Array(4).fill('404 WEBHOOK_NOT_FOUND'));
    expect((await http('GET', `${url}/api/webhooks`, undefined, mallory)).body).toEqual({ webhooks: [] });
    const kept = (await http('GET', `${url}/api/webhooks`, undefined, alice)).body.webhooks;
    expect(kept.map((e: { id: string }) => e.id)).toEqual([id]);
  });

  it.each(['nope', 'ep_', `ep_${'0'.repeat(31)}g`, `ep_${'a'.repeat(32)}`, '__proto__', `ep_${'a'.repeat(32)}.failures`, 'x'.repeat(5_000)])(
    'answers the id %s 404 WEBHOOK_NOT_FOUND',
    async (id) => {
      const { url } = await start();
      const res = await http('DELETE', `${url}/api/webhooks/${encodeURIComponent(id)}`);
      expect([res.status, res.body.code]).toEqual([404, 'WEBHOOK_NOT_FOUND']);
    },
  );

  it('rotates the secret: a new one is answered once, the endpoint stays the same', async () => {
    const { url } = await start({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    const created = (await http('POST', `${url}/api/webhooks`, { url: 'http://127.0.0.1:9/h', events: ['notification'] })).body;
    const rotated = await http('POST', `${url}/api/webhooks/${created.id}/rotate-secret`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id: created.id, url: created.url, events: created.events });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
  });
});
