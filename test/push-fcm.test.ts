import { loadConfig as loadWorkerConfig, type WorkerService } from '@jobstream/worker';
import { authHeaders } from '../test-support/auth';
import { startFakeFcm, type FakeFcm } from '../test-support/fake-fcm';
import { http } from '../test-support/http';
import { vapidEnv } from '../test-support/push';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

type Api = Awaited<ReturnType<typeof startApi>>;

/** A registration token as FCM hands them out: 150 or so characters of this alphabet. */
const fcmToken = (name: string) => `${name}:APA91b${'x'.repeat(140)}`;

describe('push delivery to FCM', () => {
  let env: TestEnv;
  let api: Api;
  let worker: WorkerService | undefined;
  let fcm: FakeFcm;
  let alice: Record<string, string>;
  let publisher: Record<string, string>;

  beforeAll(async () => {
    alice = await authHeaders('alice');
    publisher = await authHeaders('notifier', ['service']);
  });

  beforeEach(async () => {
    fcm = await startFakeFcm();
    env = testEnv({ ...vapidEnv(), ...fcm.env, PUSH_ALLOWED_HOSTS: '127.0.0.1', PUSH_BACKOFF_MS: '50' });
    api = await startApi(env);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await api.close();
    await fcm.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  async function register(token: string): Promise<string> {
    const res = await http('POST', `${api.url}/api/push/subscriptions`, { fcmToken: token }, alice);
    expect([res.status, res.body.kind, res.body.host]).toEqual([201, 'fcm', 'fcm.googleapis.com']);
    return res.body.id as string;
  }

  const notify = (title: string) => http('POST', `${api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title, message: `message of ${title}` }, publisher);
  const sentTo = (token: string) => fcm.requests.filter((r) => r.message.token === token && r.status === 200);
  const devices = async () => (await http('GET', `${api.url}/api/push/subscriptions`, undefined, alice)).body.items as { id: string }[];

  it("delivers to an app's FCM token with FCM HTTP v1: the service account's bearer, exchanged once, and the message body", async () => {
    worker = await startWorker(env);
    await register(fcmToken('phone'));
    expect((await notify('first')).status).toBe(201);
    expect((await notify('second')).status).toBe(201);
    await waitUntil('both pushes', () => sentTo(fcmToken('phone')).length === 2);

    const [first] = sentTo(fcmToken('phone'));
    expect(first?.message).toEqual({
      token: fcmToken('phone'),
      notification: { title: 'first', body: 'message of first' },
      data: { kind: 'notification', url: expect.stringMatching(/^\/\?notification=/), tag: expect.stringMatching(/^notification-/) },
      android: { priority: 'normal', ttl: '86400s', collapse_key: first?.message.data?.tag, notification: { tag: first?.message.data?.tag } },
      apns: { headers: { 'apns-priority': '5', 'apns-collapse-id': first?.message.data?.tag } },
    });
    // One exchange for both sends: the access token is kept until shortly before it expires.
    expect(fcm.issued).toEqual(['ya29.fake-1']);
    expect(fcm.requests.map((r) => r.bearer)).toEqual(['ya29.fake-1', 'ya29.fake-1']);
    expect(fcm.exchanges[0]).toMatchObject({ iss: `pusher@${fcm.projectId}.iam.gserviceaccount.com`, scope: 'https://www.googleapis.com/auth/firebase.messaging' });
    expect(fcm.problems).toEqual([]);
  });

  it('removes a token FCM reports UNREGISTERED (404) and pushes to it no more, while the other token still gets its pushes', async () => {
    worker = await startWorker(env);
    const gone = await register(fcmToken('uninstalled'));
    await register(fcmToken('phone'));
    fcm.answer(fcmToken('uninstalled'), 404);
    await notify('first');
    await waitUntil('the uninstalled app removed', async () => (await devices()).length === 1);
    expect((await devices()).map((d) => d.id)).not.toContain(gone);
    await notify('second');
    await waitUntil('the second push', () => sentTo(fcmToken('phone')).length === 2);
    expect(fcm.requests.filter((r) => r.message.token === fcmToken('uninstalled'))).toHaveLength(1);
    const removed = await worker.operations.registry.getSingleMetricAsString('jobstream_push_subscriptions_removed_total');
    expect(removed).toContain('jobstream_push_subscriptions_removed_total{kind="fcm"} 1');
  });

  it('tries again after 429 and 503 and delivers once', async () => {
    worker = await startWorker(env);
    await register(fcmToken('phone'));
    fcm.answer(fcmToken('phone'), 429, 503);
    await notify('eventually');
    await waitUntil('the push', () => sentTo(fcmToken('phone')).length === 1);
    expect(fcm.requests.map((r) => r.status)).toEqual([429, 503, 200]);
    // The worker counts the send once it has read FCM's answer, a moment after FCM wrote it.
    const registry = worker.operations.registry;
    const sends = await waitUntil('the send counted', async () => {
      const text = await registry.getSingleMetricAsString('jobstream_push_sends_total');
      return text.includes('jobstream_push_sends_total{kind="fcm",outcome="sent"} 1') ? text : undefined;
    });
    expect(sends).toContain('jobstream_push_sends_total{kind="fcm",outcome="retry"} 2');
  });

  it('asks the token server for a new bearer when FCM refuses the one it has (401), and delivers with it', async () => {
    worker = await startWorker(env);
    await register(fcmToken('phone'));
    fcm.answer(fcmToken('phone'), 401);
    await notify('after a revoked token');
    await waitUntil('the push', () => sentTo(fcmToken('phone')).length === 1);
    expect(fcm.requests.map((r) => [r.status, r.bearer])).toEqual([
      [401, 'ya29.fake-1'],
      [200, 'ya29.fake-2'],
    ]);
  });

  it('refuses FCM tokens with 400 PUSH_KIND_NOT_CONFIGURED on an api without FCM_PROJECT_ID', async () => {
    const { FCM_PROJECT_ID: _, ...withoutFcm } = env;
    const plain = await startApi(withoutFcm);
    try {
      const res = await http('POST', `${plain.url}/api/push/subscriptions`, { fcmToken: fcmToken('phone') }, alice);
      expect([res.status, res.body.code, res.body.details?.[0]?.path]).toEqual([400, 'PUSH_KIND_NOT_CONFIGURED', 'fcmToken']);
    } finally {
      await plain.close();
    }
  });

  it.each([
    ['too short', { fcmToken: 'abc' }],
    ['with brackets', { fcmToken: `ExponentPushToken[${'x'.repeat(40)}]` }],
    ['with a space', { fcmToken: `${'x'.repeat(40)} y` }],
    ['longer than 4,096 characters', { fcmToken: 'x'.repeat(4_097) }],
    ['not a string', { fcmToken: 12345 }],
    ['with another field', { fcmToken: fcmToken('phone'), endpoint: 'https://example.com' }],
  ])('refuses an FCM token %s with 400 VALIDATION_FAILED', async (_name, body) => {
    const res = await http('POST', `${api.url}/api/push/subscriptions`, body, alice);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await devices()).toEqual([]);
  });

  it('will not start a worker with FCM_PROJECT_ID but no service account to send with, or with push off', () => {
    const { FCM_SERVICE_ACCOUNT_JSON: _, ...withoutAccount } = env;
    const { VAPID_PUBLIC_KEY: _public, VAPID_PRIVATE_KEY: _private, VAPID_SUBJECT: _subject, ...pushOff } = env;
    expect(() => loadWorkerConfig(pushOff)).toThrow(/FCM_PROJECT_ID: needs push on: set the VAPID variables too/);
    expect(() => loadWorkerConfig(withoutAccount)).toThrow(/FCM_SERVICE_ACCOUNT_JSON: is required when FCM_PROJECT_ID is set/);
    expect(() => loadWorkerConfig({ ...env, FCM_SERVICE_ACCOUNT_JSON: '{"client_email":"not json' })).toThrow(/FCM_SERVICE_ACCOUNT_JSON: must be the JSON of a service account key file/);
  });
});
