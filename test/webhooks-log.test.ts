import type { ApiServer } from '@jobstream/api';
import { inboxPageSchema, webhookDeliveryListSchema, webhookListResponseSchema, type WebhookDelivery } from '@jobstream/contracts';
import type { WorkerService } from '@jobstream/worker';
import { Webhook } from 'standardwebhooks';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { startReceiver, type Receiver, type ReceiverAnswer } from '../test-support/webhook-receiver';

describe('webhook delivery log, redelivery and disabling', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let receivers: Receiver[] = [];

  const start = async (overrides: Record<string, string> = {}) => {
    env = testEnv({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_BACKOFF_BASE_MS: '100', WEBHOOK_BACKOFF_MAX_MS: '400', ...overrides });
    api = await startApi(env);
    worker = await startWorker(env);
  };
  const receiver = async (answer?: () => ReceiverAnswer) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };
  const register = async (url: string) => {
    const res = await http('POST', `${api.url}/api/webhooks`, { url, events: ['job.completed'] });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const enqueue = async () => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1 } });
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  };
  const deliveries = async (endpointId: string): Promise<WebhookDelivery[]> => {
    const res = await http('GET', `${api.url}/api/webhooks/${endpointId}/deliveries`);
    expect(res.status).toBe(200);
    return webhookDeliveryListSchema.parse(res.body).deliveries;
  };
  const logWhere = (endpointId: string, what: string, ok: (list: WebhookDelivery[]) => boolean) =>
    waitUntil(what, async () => {
      const list = await deliveries(endpointId);
      return ok(list) && list;
    });

  afterEach(async () => {
    for (const r of receivers) await r.close();
    await worker?.close();
    await api?.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
    receivers = [];
  });

  it('logs each delivery with its attempts, answer and time, and redelivers it with the same webhook-id', async () => {
    await start();
    const target = await receiver();
    const endpoint = await register(target.url);
    const jobId = await enqueue();
    const [entry] = await logWhere(endpoint.id, 'a delivered entry', (list) => list[0]?.status === 'delivered');
    expect(entry).toMatchObject({ endpointId: endpoint.id, eventType: 'job.completed', attempts: 1, lastStatusCode: 200, lastError: null, payload: { type: 'job.completed', data: { jobId } } });
    expect(entry!.responseTimeMs).toEqual(expect.any(Number));

    const redelivered = await http('POST', `${api.url}/api/webhooks/${endpoint.id}/deliveries/${entry!.id}/redeliver`, {});
    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toMatchObject({ id: entry!.id, status: 'pending' });
    await waitUntil('the redelivery', () => target.delivered().length === 2);
    const [first, second] = target.requests;
    expect(second!.headers['webhook-id']).toBe(entry!.id);
    expect(first!.headers['webhook-id']).toBe(entry!.id);
    expect(second!.body).toBe(first!.body);
    new Webhook(endpoint.secret).verify(second!.body, second!.headers as Record<string, string>);
    await logWhere(endpoint.id, 'the entry delivered again', (list) => list[0]?.status === 'delivered' && list[0].attempts === 2);
  });

  it('redelivers a dead delivery once its receiver works again', async () => {
    await start({ WEBHOOK_MAX_ATTEMPTS: '2' });
    let status = 500;
    const target = await receiver(() => ({ status }));
    const endpoint = await register(target.url);
    await enqueue();
    const [dead] = await logWhere(endpoint.id, 'a dead entry', (list) => list[0]?.status === 'dead');
    expect(dead).toMatchObject({ attempts: 2, lastStatusCode: 500, lastError: 'HTTP 500' });
    status = 200;
    expect((await http('POST', `${api.url}/api/webhooks/${endpoint.id}/deliveries/${dead!.id}/redeliver`, {})).status).toBe(202);
    const [delivered] = await logWhere(endpoint.id, 'the entry delivered', (list) => list[0]?.status === 'delivered');
    expect(delivered).toMatchObject({ id: dead!.id, attempts: 3, lastStatusCode: 200, lastError: null });
  });

  it('answers a delivery id that is not in this endpoint\'s log 404 WEBHOOK_DELIVERY_NOT_FOUND', async () => {
    await start();
    const target = await receiver();
    const endpoint = await register(target.url);
    const other = await register(target.url);
    await enqueue();
    const [entry] = await logWhere(endpoint.id, 'a delivered entry', (list) => list[0]?.status === 'delivered');
    for (const id of [entry!.id.replace(endpoint.id, other.id).replace(/^\d+/, '1'), `${entry!.id}x`, 'nope', '9'.repeat(400), `1-0_${endpoint.id}`]) {
      const res = await http('POST', `${api.url}/api/webhooks/${endpoint.id}/deliveries/${encodeURIComponent(id)}/redeliver`, {});
      expect({ id, status: res.status, code: res.body.code }).toEqual({ id, status: 404, code: 'WEBHOOK_DELIVERY_NOT_FOUND' });
    }
    // Another endpoint's delivery, through this endpoint's path.
    const [otherEntry] = await logWhere(other.id, 'the other endpoint\'s entry', (list) => list[0]?.status === 'delivered');
    const crossed = await http('POST', `${api.url}/api/webhooks/${endpoint.id}/deliveries/${otherEntry!.id}/redeliver`, {});
    expect([crossed.status, crossed.body.code]).toEqual([404, 'WEBHOOK_DELIVERY_NOT_FOUND']);
  });

  it.each([['limit=0'], ['limit=101'], ['limit=ten'], ['after=1']])('answers a log query with %s 400 VALIDATION_FAILED', async (query) => {
    await start();
    const endpoint = await register('http://127.0.0.1:9/hook');
    const res = await http('GET', `${api.url}/api/webhooks/${endpoint.id}/deliveries?${query}`);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('turns off an endpoint that keeps failing, tells its owner, and sends it nothing more', async () => {
    await start({ WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_DISABLE_AFTER_FAILURES: '2' });
    const failing = await receiver(() => ({ status: 500 }));
    const healthy = await receiver();
    const endpoint = await register(failing.url);
    const witness = await register(healthy.url);
    await enqueue();
    await enqueue();
    const webhooks = await waitUntil('the endpoint to be disabled', async () => {
      const list = webhookListResponseSchema.parse((await http('GET', `${api.url}/api/webhooks`)).body).webhooks;
      return list.find((e) => e.id === endpoint.id)?.enabled === false && list;
    });
    expect(webhooks.find((e) => e.id === endpoint.id)).toMatchObject({ enabled: false, disabledReason: '2 deliveries in a row failed' });
    expect(webhooks.find((e) => e.id === witness.id)).toMatchObject({ enabled: true, disabledReason: null });
    const inbox = inboxPageSchema.parse((await http('GET', `${api.url}/api/notifications`)).body);
    expect(inbox.items.filter((n) => n.type === 'webhook.disabled')).toEqual([
      expect.objectContaining({ priority: 'high', data: { endpointId: endpoint.id, url: failing.url } }),
    ]);
    // A third job: once the healthy endpoint has it, the dispatcher has passed it over the disabled one.
    await enqueue();
    await waitUntil('the third delivery to the healthy endpoint', () => healthy.delivered().length === 3);
    expect(failing.requests).toHaveLength(2);
  });

  it("logs a user's deliveries beyond the pending cap as dead, and refuses to redeliver past it", async () => {
    await start({ WEBHOOK_MAX_PENDING_PER_USER: '2', WEBHOOK_TIMEOUT_MS: '60000' });
    const target = await receiver(() => 'hang');
    const endpoint = await register(target.url);
    await enqueue();
    await enqueue();
    await enqueue();
    const list = await logWhere(endpoint.id, 'three entries', (entries) => entries.length === 3);
    expect(list.map((d) => d.status).sort()).toEqual(['dead', 'pending', 'pending']);
    const dead = list.find((d) => d.status === 'dead');
    expect(dead).toMatchObject({ attempts: 0, lastError: 'more than 2 deliveries were pending for this user' });
    const refused = await http('POST', `${api.url}/api/webhooks/${endpoint.id}/deliveries/${dead!.id}/redeliver`, {});
    expect([refused.status, refused.body.code]).toEqual([429, 'WEBHOOK_QUOTA_EXCEEDED']);
    await waitUntil('two attempts under way', () => target.requests.length === 2);
  });
});
