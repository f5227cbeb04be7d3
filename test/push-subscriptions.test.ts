import { loadConfig } from '@jobstream/api';
import { apiErrorBodySchema, pushSubscriptionListSchema, pushSubscriptionViewSchema } from '@jobstream/contracts';
import { createClient, NotFoundError } from '@jobstream/client';
import { authHeaders, tokenFor } from '../test-support/auth';
import { http } from '../test-support/http';
import { testDevice, vapidEnv } from '../test-support/push';
import { cleanupPrefix, startApi, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';

type Api = Awaited<ReturnType<typeof startApi>>;

const endpoint = (n: number | string): string => `https://push.example.com/send/${n}`;

describe('push subscriptions', () => {
  let env: TestEnv;
  let api: Api | undefined;
  let alice: Record<string, string>;
  let bob: Record<string, string>;

  beforeAll(async () => {
    alice = await authHeaders('alice');
    bob = await authHeaders('bob');
  });

  async function start(overrides: Record<string, string> = {}): Promise<Api> {
    env = testEnv({ ...vapidEnv(), PUSH_MAX_SUBSCRIPTIONS_PER_USER: '3', ...overrides });
    api = await startApi(env);
    return api;
  }

  afterEach(async () => {
    await api?.close();
    api = undefined;
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('answers 404 PUSH_NOT_CONFIGURED on every push route while the VAPID keys are unset', async () => {
    env = testEnv();
    api = await startApi(env);
    const answers = [
      await http('GET', `${api.url}/api/push/vapid-public-key`, undefined, alice),
      await http('POST', `${api.url}/api/push/subscriptions`, testDevice().subscription(endpoint(1)), alice),
      await http('GET', `${api.url}/api/push/subscriptions`, undefined, alice),
      await http('DELETE', `${api.url}/api/push/subscriptions/${'A'.repeat(22)}`, undefined, alice),
    ];
    expect(answers.map((res) => `${res.status} ${res.body.code}`)).toEqual(Array(4).fill('404 PUSH_NOT_CONFIGURED'));
    for (const res of answers) apiErrorBodySchema.parse(res.body);
  });

  it('refuses to start with only some of the VAPID variables set, naming the missing ones', () => {
    const { VAPID_PUBLIC_KEY } = vapidEnv();
    env = testEnv();
    expect(() => loadConfig({ ...env, VAPID_PUBLIC_KEY })).toThrow(/VAPID_PRIVATE_KEY: is required.*\n?.*VAPID_SUBJECT: is required/s);
  });

  it('hands out the public key the page subscribes with', async () => {
    await start();
    const res = await http('GET', `${api!.url}/api/push/vapid-public-key`, undefined, alice);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ publicKey: env.VAPID_PUBLIC_KEY });
  });

  it('registers a device once, lists it without its keys or endpoint, and deletes it', async () => {
    await start();
    const device = testDevice().subscription(endpoint('abc'));
    const created = await http('POST', `${api!.url}/api/push/subscriptions`, device, alice);
    expect(created.status).toBe(201);
    const view = pushSubscriptionViewSchema.strict().parse(created.body);
    expect(view).toMatchObject({ kind: 'web', host: 'push.example.com' });

    // The same device again (a page reload re-subscribes): the same subscription, not a second one.
    const again = await http('POST', `${api!.url}/api/push/subscriptions`, device, alice);
    expect([again.status, again.body.id]).toEqual([200, view.id]);

    const list = await http('GET', `${api!.url}/api/push/subscriptions`, undefined, alice);
    expect(pushSubscriptionListSchema.parse(list.body)).toEqual({ items: [view], max: 3 });
    expect(JSON.stringify(list.body)).not.toContain(device.keys.auth);
    expect(JSON.stringify(list.body)).not.toContain('/send/abc');

    const deleted = await http('DELETE', `${api!.url}/api/push/subscriptions/${view.id}`, undefined, alice);
    expect(deleted.status).toBe(204);
    expect((await http('GET', `${api!.url}/api/push/subscriptions`, undefined, alice)).body.items).toEqual([]);
    const twice = await http('DELETE', `${api!.url}/api/push/subscriptions/${view.id}`, undefined, alice);
    expect([twice.status, twice.body.code]).toEqual([404, 'PUSH_SUBSCRIPTION_NOT_FOUND']);
  });

  it("answers 404 for another user's subscription id and leaves it in place", async () => {
    await start();
    const created = await http('POST', `${api!.url}/api/push/subscriptions`, testDevice().subscription(endpoint('alice')), alice);
    const res = await http('DELETE', `${api!.url}/api/push/subscriptions/${created.body.id}`, undefined, bob);
    expect([res.status, res.body.code]).toEqual([404, 'PUSH_SUBSCRIPTION_NOT_FOUND']);
    expect((await http('GET', `${api!.url}/api/push/subscriptions`, undefined, bob)).body.items).toEqual([]);
    expect((await http('GET', `${api!.url}/api/push/subscriptions`, undefined, alice)).body.items).toHaveLength(1);
  });

  it('moves a device to the user who registers it last, so the previous user is never pushed to it', async () => {
    await start();
    const device = testDevice().subscription(endpoint('shared-laptop'));
    await http('POST', `${api!.url}/api/push/subscriptions`, device, alice);
    const bobs = await http('POST', `${api!.url}/api/push/subscriptions`, device, bob);
    expect(bobs.status).toBe(201);
    expect((await http('GET', `${api!.url}/api/push/subscriptions`, undefined, alice)).body.items).toEqual([]);
    expect((await http('GET', `${api!.url}/api/push/subscriptions`, undefined, bob)).body.items.map((s: { id: string }) => s.id)).toEqual([bobs.body.id]);
  });

  it('caps the subscriptions of one user with 409 PUSH_SUBSCRIPTION_LIMIT, and still refreshes a known one at the cap', async () => {
    await start();
    for (let n = 0; n < 3; n++) expect((await http('POST', `${api!.url}/api/push/subscriptions`, testDevice().subscription(endpoint(n)), alice)).status).toBe(201);
    const fourth = await http('POST', `${api!.url}/api/push/subscriptions`, testDevice().subscription(endpoint(3)), alice);
    expect([fourth.status, fourth.body.code]).toEqual([409, 'PUSH_SUBSCRIPTION_LIMIT']);
    const known = await http('POST', `${api!.url}/api/push/subscriptions`, testDevice().subscription(endpoint(0)), alice);
    expect(known.status).toBe(200);
    // Another user's count is their own.
    expect((await http('POST', `${api!.url}/api/push/subscriptions`, testDevice().subscription(endpoint(3)), bob)).status).toBe(201);
  });

  it('registers an Expo push token of a React Native app', async () => {
    await start();
    const res = await http('POST', `${api!.url}/api/push/subscriptions`, { expoPushToken: 'ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]' }, alice);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'expo', host: 'exp.host' });
  });

  const keys = testDevice().subscription(endpoint(0)).keys;
  const refusedEndpoints: [string, string][] = [
    ['plain http', 'http://push.example.com/send/1'],
    ['a loopback address', 'https://127.0.0.1/send'],
    ['an IPv6 loopback address', 'https://[::1]/send'],
    ['an IPv4-mapped loopback address', 'https://[::ffff:127.0.0.1]/send'],
    ['a private address', 'https://10.1.2.3/send'],
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data'],
    ['a 6to4 address carrying a loopback one', 'https://[2002:7f00:1::1]/send'],
    ['an IPv4-compatible private address', 'https://[::a00:1]/send'],
    ['a documentation address', 'https://192.0.2.10/send'],
    ['localhost', 'https://localhost/send'],
    ['an internal name', 'https://push.svc.cluster.internal/send'],
    ['a single-label name', 'https://redis/send'],
    ['credentials in the URL', 'https://user:pass@push.example.com/send'],
    ['another scheme', 'file:///etc/passwd'],
    ['no URL at all', 'not a url'],
  ];
  it.each(refusedEndpoints)('refuses an endpoint with %s as 400 PUSH_ENDPOINT_NOT_ALLOWED', async (_name, url) => {
    await start();
    const res = await http('POST', `${api!.url}/api/push/subscriptions`, { endpoint: url, keys }, alice);
    expect([res.status, res.body.code, res.body.details?.[0]?.path]).toEqual([400, 'PUSH_ENDPOINT_NOT_ALLOWED', 'endpoint']);
  });

  it('accepts a loopback push service the operator allowed in PUSH_ALLOWED_HOSTS, over http too', async () => {
    await start({ PUSH_ALLOWED_HOSTS: '127.0.0.1' });
    const res = await http('POST', `${api!.url}/api/push/subscriptions`, { endpoint: 'http://127.0.0.1:9999/send/1', keys }, alice);
    expect(res.status).toBe(201);
  });

  const p256 = testDevice().subscription(endpoint(0)).keys.p256dh;
  const badBodies: [string, unknown, string][] = [
    ['a huge p256dh key', { endpoint: endpoint(1), keys: { p256dh: 'B'.repeat(5_000), auth: keys.auth } }, 'keys.p256dh'],
    ['a p256dh key one byte short', { endpoint: endpoint(1), keys: { p256dh: Buffer.from(p256, 'base64url').subarray(0, 64).toString('base64url'), auth: keys.auth } }, 'keys.p256dh'],
    ['a compressed p256dh point', { endpoint: endpoint(1), keys: { p256dh: Buffer.concat([Buffer.from([2]), Buffer.alloc(64, 1)]).toString('base64url'), auth: keys.auth } }, 'keys.p256dh'],
    ['an auth secret of 15 bytes', { endpoint: endpoint(1), keys: { p256dh: p256, auth: Buffer.alloc(15).toString('base64url') } }, 'keys.auth'],
    ['an auth secret that is not base64url', { endpoint: endpoint(1), keys: { p256dh: p256, auth: '!!!!!!!!!!!!!!!!!!!!!!' } }, 'keys.auth'],
    ['no keys', { endpoint: endpoint(1) }, 'keys'],
    ['an endpoint of 3,000 characters', { endpoint: `https://push.example.com/${'a'.repeat(3_000)}`, keys }, 'endpoint'],
    ['a malformed Expo token', { expoPushToken: 'ExponentPushToken[../../etc]' }, 'expoPushToken'],
  ];
  it.each(badBodies)('refuses %s as 400 VALIDATION_FAILED naming the field', async (_name, body, path) => {
    await start();
    const res = await http('POST', `${api!.url}/api/push/subscriptions`, body, alice);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.details.map((d: { path: string }) => d.path)).toContain(path);
    expect((await http('GET', `${api!.url}/api/push/subscriptions`, undefined, alice)).body.items).toEqual([]);
  });

  it('is reachable through the SDK: register, list and remove, with typed errors', async () => {
    await start();
    const client = createClient({ baseUrl: api!.url, token: await tokenFor('alice') });
    expect(await client.push.vapidPublicKey()).toBe(env.VAPID_PUBLIC_KEY);
    const view = await client.push.register(testDevice().subscription(endpoint('sdk')));
    expect((await client.push.list()).items.map((s) => s.id)).toEqual([view.id]);
    await client.push.remove(view.id);
    await expect(client.push.remove(view.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.push.remove(view.id)).rejects.toMatchObject({ code: 'PUSH_SUBSCRIPTION_NOT_FOUND' });
  });

  it('answers a malformed subscription id with the same 404 as an unknown one', async () => {
    await start();
    for (const id of ['x', '%00', 'a'.repeat(500), '..%2F..%2Fetc']) {
      const res = await http('DELETE', `${api!.url}/api/push/subscriptions/${id}`, undefined, alice);
      expect([id, res.status, res.body.code]).toEqual([id, 404, 'PUSH_SUBSCRIPTION_NOT_FOUND']);
    }
  });
});
