import { loadConfig, type ApiServer } from '@jobstream/api';
import { alertNames, alertsSnapshotSchema, apiErrorBodySchema } from '@jobstream/contracts';
import { DeliveryLog, jobstreamKeys } from '@jobstream/runtime';
import { Redis } from 'ioredis';
import { documentedAnswers } from '../test-support/api-documents';
import { authHeaders } from '../test-support/auth';
import { routesOf } from '../test-support/express-routes';
import { http } from '../test-support/http';
import { testDevice, vapidEnv } from '../test-support/push';
import { requestOnce } from '../test-support/raw-http';
import { cleanupPrefix, startApi, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';

/*
 * Who may call what: every /api route the app serves × the five kinds of caller, each cell the
 * status (and, for a refusal, the code) a real api answers. The job and the notification in the
 * fixture belong to the owner; "other" is a second plain user. A 404 for another user's job or
 * notification is deliberate: ids must not be probeable (never 403). Topics: `news` is public,
 * the owner's token grants `team-42.*`, nobody's grants `payroll`; admin and service follow any
 * topic by their role (their tokens grant none).
 */

const roles = ['anonymous', 'owner', 'other', 'admin', 'service'] as const;
type Role = (typeof roles)[number];
type Row = Record<Role, string>;

interface Fixture {
  jobId: string;
  notificationId: string;
  /** The owner's webhook endpoint, with one finished delivery in its log. */
  webhookId: string;
  deliveryId: string;
  pushSubscriptionId: string;
}

interface RouteCase {
  route: string;
  /** What sets this row apart from the route's other rows. */
  variant?: string;
  request: (fixture: Fixture) => { path: string; body?: unknown; headers?: Record<string, string> };
  expected: Row;
  /** The request changes the owner's job: each caller gets a new one (a cancelled job is gone for the next caller). */
  freshJob?: true;
}

const all = (cell: string): Omit<Row, 'anonymous'> => ({ owner: cell, other: cell, admin: cell, service: cell });
const signedIn = (cell: string): Row => ({ anonymous: '401 AUTH_REQUIRED', ...all(cell) });
const ownWebhook = (cell: string): Row => ({ anonymous: '401 AUTH_REQUIRED', owner: cell, other: '404 WEBHOOK_NOT_FOUND', admin: '404 WEBHOOK_NOT_FOUND', service: '404 WEBHOOK_NOT_FOUND' });
const ownJobs: Row = { anonymous: '401 AUTH_REQUIRED', owner: '200', other: '404 JOB_NOT_FOUND', admin: '200', service: '404 JOB_NOT_FOUND' };
const adminOnly: Row = { anonymous: '401 AUTH_REQUIRED', owner: '403 FORBIDDEN', other: '403 FORBIDDEN', admin: '200', service: '403 FORBIDDEN' };
const grantedTopic: Row = { anonymous: '401 AUTH_REQUIRED', owner: '200', other: '403 TOPIC_NOT_ALLOWED', admin: '200', service: '200' };
const publishersOnlyTopic: Row = { anonymous: '401 AUTH_REQUIRED', owner: '403 TOPIC_NOT_ALLOWED', other: '403 TOPIC_NOT_ALLOWED', admin: '200', service: '200' };

const demoJob = { type: 'demo.work', payload: { durationMs: 1 } };

// prettier-ignore
const matrix: RouteCase[] = [
  { route: 'POST /api/jobs',                          request: () => ({ path: '/api/jobs', body: demoJob }),                                     expected: signedIn('202') },
  { route: 'POST /api/ai/generate-flashcards',        request: () => ({ path: '/api/ai/generate-flashcards', body: { content: 'c', subject: 's', topic: 't' } }), expected: signedIn('202') },
  // Everyone signed in gets their own jobs (an admin too): which ones is test/jobs-list.test.ts's business.
  { route: 'GET /api/jobs',                           request: () => ({ path: '/api/jobs' }),                                                    expected: signedIn('200') },
  { route: 'GET /api/jobs/:id',                       request: (f) => ({ path: `/api/jobs/${f.jobId}` }),                                      expected: ownJobs },
  // A request id is a label for logs, never a credential: the owner's request id does not open the job to anyone else.
  { route: 'GET /api/jobs/:id',                       variant: 'an X-Request-Id', request: (f) => ({ path: `/api/jobs/${f.jobId}`, headers: { 'X-Request-Id': `owner-${f.jobId}` } }), expected: ownJobs },
  { route: 'GET /api/jobs/:id/events',                variant: 'a hostile X-Request-Id', request: (f) => ({ path: `/api/jobs/${f.jobId}/events`, headers: { 'X-Request-Id': 'x'.repeat(10_240) } }), expected: ownJobs },
  { route: 'GET /api/job-status/:id',                 request: (f) => ({ path: `/api/job-status/${f.jobId}` }),                                expected: ownJobs },
  { route: 'GET /api/jobs/:id/events',                request: (f) => ({ path: `/api/jobs/${f.jobId}/events` }),                               expected: ownJobs },
  { route: 'GET /api/job-events',                     request: (f) => ({ path: `/api/job-events?jobId=${f.jobId}` }),                          expected: ownJobs },
  { route: 'POST /api/jobs/:id/cancel',               freshJob: true, request: (f) => ({ path: `/api/jobs/${f.jobId}/cancel`, body: {} }),
    expected: { anonymous: '401 AUTH_REQUIRED', owner: '202', other: '404 JOB_NOT_FOUND', admin: '202', service: '404 JOB_NOT_FOUND' } },
  // The fixture's job is waiting: the owner and an admin reach the state check, which only a failed job passes.
  { route: 'POST /api/jobs/:id/retry',                request: (f) => ({ path: `/api/jobs/${f.jobId}/retry`, body: {} }),
    expected: { anonymous: '401 AUTH_REQUIRED', owner: '409 JOB_NOT_RETRYABLE', other: '404 JOB_NOT_FOUND', admin: '409 JOB_NOT_RETRYABLE', service: '404 JOB_NOT_FOUND' } },
  { route: 'GET /api/queue/stats',                    request: () => ({ path: '/api/queue/stats' }),                                             expected: signedIn('200') },
  { route: 'GET /api/me',                             request: () => ({ path: '/api/me' }),                                                      expected: signedIn('200') },
  { route: 'GET /api/metrics/alerts',                 request: () => ({ path: '/api/metrics/alerts' }),                                          expected: adminOnly },
  { route: 'GET /api/admin/budget/status',            request: () => ({ path: '/api/admin/budget/status' }),                                     expected: adminOnly },
  { route: 'POST /api/admin/budget/kill-switch',      request: () => ({ path: '/api/admin/budget/kill-switch', body: { enabled: false } }),      expected: adminOnly },
  { route: 'GET /api/admin/budget/kill-switch/audit', request: () => ({ path: '/api/admin/budget/kill-switch/audit' }),                          expected: adminOnly },
  { route: 'GET /api/admin/workers',                  request: () => ({ path: '/api/admin/workers' }),                                           expected: adminOnly },
  { route: 'GET /api/admin/system-events',            request: () => ({ path: '/api/admin/system-events?limit=5&event=kill_switch_changed' }),   expected: adminOnly },
  { route: 'GET /api/admin/feed',                     request: () => ({ path: '/api/admin/feed' }),                                              expected: adminOnly },
  { route: 'GET /api/admin/queue/breakdown',          request: () => ({ path: '/api/admin/queue/breakdown?state=failed' }),                      expected: adminOnly },
  { route: 'GET /api/admin/budget/charges',           request: () => ({ path: '/api/admin/budget/charges?limit=3' }),                            expected: adminOnly },
  { route: 'GET /api/admin/jobs',                     request: () => ({ path: '/api/admin/jobs?state=waiting' }),                                expected: adminOnly },
  { route: 'POST /api/admin/jobs/clean',              request: () => ({ path: '/api/admin/jobs/clean', body: { state: 'completed', olderThanSeconds: 3_600 } }), expected: adminOnly },
  { route: 'GET /api/notifications/stream',           request: () => ({ path: '/api/notifications/stream' }),                                    expected: signedIn('200') },
  { route: 'GET /api/notifications/stream',           variant: 'a public topic',   request: () => ({ path: '/api/notifications/stream?topics=news' }),        expected: signedIn('200') },
  { route: 'GET /api/notifications/stream',           variant: 'a granted topic',  request: () => ({ path: '/api/notifications/stream?topics=team-42.ops' }), expected: grantedTopic },
  { route: 'GET /api/notifications/stream',           variant: 'a topic nobody is granted', request: () => ({ path: '/api/notifications/stream?topics=payroll' }), expected: publishersOnlyTopic },
  // A cursor names channels too: it must not read a topic the caller may not follow.
  { route: 'GET /api/notifications/stream',           variant: 'a cursor naming a topic nobody is granted',
    request: () => ({ path: '/api/notifications/stream', headers: { 'Last-Event-ID': 't:payroll=0-0' } }),                                          expected: publishersOnlyTopic },
  { route: 'GET /api/notifications',                  request: () => ({ path: '/api/notifications' }),                                           expected: signedIn('200') },
  { route: 'POST /api/notifications',                 request: () => ({ path: '/api/notifications', body: { userId: 'alice', type: 'chat.message', title: 't', message: 'm' } }),
    expected: { anonymous: '401 AUTH_REQUIRED', owner: '403 FORBIDDEN', other: '403 FORBIDDEN', admin: '201', service: '201' } },
  { route: 'POST /api/notifications/read-all',        request: () => ({ path: '/api/notifications/read-all', body: {} }),                        expected: signedIn('200') },
  // The inbox is per user: even an admin has no notification addressed to someone else.
  { route: 'POST /api/notifications/:id/read',        request: (f) => ({ path: `/api/notifications/${f.notificationId}/read`, body: {} }),
    expected: { anonymous: '401 AUTH_REQUIRED', owner: '200', other: '404 NOTIFICATION_NOT_FOUND', admin: '404 NOTIFICATION_NOT_FOUND', service: '404 NOTIFICATION_NOT_FOUND' } },
  // Everyone signed in manages their own endpoints; nobody, an admin included, reaches another's (ids are not probeable).
  { route: 'POST /api/webhooks',                      request: () => ({ path: '/api/webhooks', body: { url: 'http://127.0.0.1:9/hook', events: ['job.completed'] } }), expected: signedIn('201') },
  { route: 'POST /api/webhooks',                      variant: 'a private target',
    request: () => ({ path: '/api/webhooks', body: { url: 'http://10.0.0.1/hook', events: ['job.completed'] } }),                                    expected: signedIn('400 WEBHOOK_TARGET_REFUSED') },
  { route: 'GET /api/webhooks',                       request: () => ({ path: '/api/webhooks' }),                                                expected: signedIn('200') },
  { route: 'POST /api/webhooks/job-callbacks',        request: () => ({ path: '/api/webhooks/job-callbacks', body: {} }),                        expected: signedIn('201') },
  // A job's callbackUrl needs the caller's own job-callbacks endpoint; the owner has none in the fixture.
  { route: 'POST /api/jobs',                          variant: 'a callbackUrl and no job-callbacks endpoint',
    request: () => ({ path: '/api/jobs', body: { ...demoJob, callbackUrl: 'http://127.0.0.1:9/cb' } }),                                                expected: signedIn('400 VALIDATION_FAILED') },
  { route: 'GET /api/webhooks/:id/deliveries',        request: (f) => ({ path: `/api/webhooks/${f.webhookId}/deliveries` }),                    expected: ownWebhook('200') },
  { route: 'POST /api/webhooks/:id/deliveries/:deliveryId/redeliver', request: (f) => ({ path: `/api/webhooks/${f.webhookId}/deliveries/${f.deliveryId}/redeliver`, body: {} }), expected: ownWebhook('202') },
  { route: 'POST /api/webhooks/:id/rotate-secret',    request: (f) => ({ path: `/api/webhooks/${f.webhookId}/rotate-secret`, body: {} }),       expected: ownWebhook('200') },
  // The owner's delete comes after the others' refusals (callers go in the order of `roles`).
  { route: 'DELETE /api/webhooks/:id',                request: (f) => ({ path: `/api/webhooks/${f.webhookId}` }),                               expected: ownWebhook('204') },
  // Public: they describe the api, not anyone's data.
  { route: 'GET /api/openapi.json',                   request: () => ({ path: '/api/openapi.json' }),                                            expected: { anonymous: '200', ...all('200') } },
  { route: 'GET /api/docs',                           request: () => ({ path: '/api/docs' }),                                                    expected: { anonymous: '200', ...all('200') } },
  { route: 'GET /api/events/catalog',                 request: () => ({ path: '/api/events/catalog' }),                                          expected: { anonymous: '200', ...all('200') } },
  // Any caller hands over its own token; redeeming is public (the code is the credential), and an unknown code is 404 to all.
  { route: 'POST /api/sign-in-codes',                 request: () => ({ path: '/api/sign-in-codes', body: {} }),                                 expected: signedIn('201') },
  // Push subscriptions are per user, like the inbox: nobody, an admin neither, reaches another user's device.
  { route: 'GET /api/push/vapid-public-key',          request: () => ({ path: '/api/push/vapid-public-key' }),                                   expected: signedIn('200') },
  { route: 'GET /api/push/subscriptions',             request: () => ({ path: '/api/push/subscriptions' }),                                      expected: signedIn('200') },
  // Each caller registers a device of its own (201), so the rows do not move the owner's device.
  { route: 'POST /api/push/subscriptions',            request: () => ({ path: '/api/push/subscriptions', body: testDevice().subscription(`https://push.example.com/send/${Math.random()}`) }), expected: signedIn('201') },
  { route: 'DELETE /api/push/subscriptions/:id',      request: (f) => ({ path: `/api/push/subscriptions/${f.pushSubscriptionId}` }),
    expected: { anonymous: '401 AUTH_REQUIRED', owner: '204', other: '404 PUSH_SUBSCRIPTION_NOT_FOUND', admin: '404 PUSH_SUBSCRIPTION_NOT_FOUND', service: '404 PUSH_SUBSCRIPTION_NOT_FOUND' } },
  { route: 'DELETE /api/push/subscriptions/:id',      variant: "a notification's id", request: (f) => ({ path: `/api/push/subscriptions/${f.notificationId}` }),
    expected: { anonymous: '401 AUTH_REQUIRED', ...all('404 PUSH_SUBSCRIPTION_NOT_FOUND') } },
  { route: 'POST /api/sign-in-codes/redeem',          request: () => ({ path: '/api/sign-in-codes/redeem', body: { code: 'A'.repeat(43) } }),   expected: { anonymous: '404 SIGN_IN_CODE_INVALID', ...all('404 SIGN_IN_CODE_INVALID') } },
];

describe('authorization matrix', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };
  let headers: Record<Role, Record<string, string>>;
  let fixture: Fixture;

  beforeEach(async () => {
    env = testEnv({ RATE_LIMIT_ENQUEUE_POINTS: '0', NOTIFICATION_PUBLIC_TOPICS: 'news', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', ...vapidEnv() });
    api = await startApi(env);
    headers = {
      anonymous: { authorization: '' },
      owner: await authHeaders('alice', [], { topics: ['team-42.*'] }),
      other: await authHeaders('mallory', [], { topics: null }),
      admin: await authHeaders('root', ['admin'], { topics: null }),
      service: await authHeaders('notifier', ['service'], { topics: null }),
    };
    const job = await http('POST', `${api.url}/api/jobs`, demoJob, headers.owner);
    const notification = await http('POST', `${api.url}/api/notifications`, { userId: 'alice', type: 'chat.message', title: 'hello', message: 'm' }, headers.service);
    const webhook = await http('POST', `${api.url}/api/webhooks`, { url: 'http://127.0.0.1:9/hook', events: ['notification'] }, headers.owner);
    const device = await http('POST', `${api.url}/api/push/subscriptions`, testDevice().subscription('https://push.example.com/send/owner'), headers.owner);
    expect([job.status, notification.status, webhook.status, device.status]).toEqual([202, 201, 201, 201]);
    const webhookId = webhook.body.id as string;
    const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    const keys = jobstreamKeys(loadConfig(env).queue);
    // What the worker would have logged for a delivery it gave up.
    const deliveryId = `${Date.now()}-0_${webhookId}`;
    await new DeliveryLog(redis, keys, { maxEntries: 10, maxPending: 10, retentionMs: 60_000 }).add({
      id: deliveryId, endpointId: webhookId, owner: 'alice', eventType: 'notification', status: 'dead', attempts: 3, lastStatusCode: 500,
      lastError: 'HTTP 500', responseTimeMs: 3, createdAt: Date.now(), updatedAt: Date.now(), redeliveries: 0, body: '{}',
    });
    fixture = { jobId: job.body.jobId as string, notificationId: notification.body.id as string, webhookId, deliveryId, pushSubscriptionId: device.body.id as string };
    // What the metrics service would have written: without it the alerts route answers 503 to everyone it lets in.
    const snapshot = alertsSnapshotSchema.parse({
      alerts: Object.fromEntries(alertNames.map((name) => [name, false])),
      alertsActive: 0,
      values: { queueDepth: 1, active: 0, delayed: 0, failureRate: 0, finishedInWindow: 0, failedInWindow: 0, workersLive: 0, workersStalled: 0, circuitBreakersOpen: 0, budgetSpent: 0, budgetLimit: 0 },
      thresholds: { queueDepthHigh: 100, queueDepthCritical: 1000, failureRate: 0.1, failureRateWindowMs: 300_000, failureRateMinJobs: 10, workerStallMs: 60_000, evaluationIntervalMs: 5_000 },
      evaluatedAt: new Date().toISOString(),
    });
    await redis.set(keys.alerts, JSON.stringify(snapshot));
    redis.disconnect();
  });

  afterEach(async () => {
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('has a row for every /api route the app serves, and no row for a route it does not', () => {
    const served = routesOf(api.app).filter((route) => route.split(' ')[1]?.startsWith('/api/'));
    expect(served).toEqual([...new Set(matrix.map((row) => row.route))].sort());
  });

  const rows = matrix.map((row) => ({ ...row, title: row.variant ? `${row.route} with ${row.variant}` : row.route }));
  it.each(rows)('$title answers each caller as the matrix says', async ({ route, request, expected, freshJob }) => {
    const method = route.split(' ')[0] as string;
    const actual = {} as Row;
    for (const role of roles) {
      const jobId = freshJob ? ((await http('POST', `${api.url}/api/jobs`, demoJob, headers.owner)).body.jobId as string) : fixture.jobId;
      const { path, body, headers: extra } = request({ ...fixture, jobId });
      const res = await requestOnce(method, `${api.url}${path}`, { headers: { ...headers[role], ...extra }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      // Only a refusal's code counts: a sign-in code's answer has a `code` of its own.
      actual[role] = `${res.status}${res.status >= 400 && res.body?.code ? ` ${res.body.code}` : ''}`;
      if (res.status >= 400) apiErrorBodySchema.parse(res.body);
    }
    expect(actual).toEqual(expected);
    // The OpenAPI document lists every answer a caller gets here (docs/openapi.json).
    const documented = documentedAnswers(route);
    expect(roles.filter((role) => !documented.has(actual[role])).map((role) => `${role}: ${actual[role]}`)).toEqual([]);
  });
});
