import type { ApiServer } from '@jobstream/api';
import { createClient, NotFoundError, RateLimitError, ValidationError } from '@jobstream/client';
import { webhookDeliverySchema, webhookEndpointSchema } from '@jobstream/contracts';
import type { WorkerService } from '@jobstream/worker';
import { Webhook } from 'standardwebhooks';
import { tokenFor } from '../test-support/auth';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { startReceiver, type Receiver } from '../test-support/webhook-receiver';

describe('client SDK: webhooks', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let target: Receiver;

  beforeEach(async () => {
    env = testEnv({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_MAX_ENDPOINTS_PER_USER: '1' });
    api = await startApi(env);
    worker = await startWorker(env);
    target = await startReceiver();
  });

  afterEach(async () => {
    await target.close();
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  it('creates, lists, rotates, reads the log of, redelivers and deletes an endpoint', async () => {
    const client = createClient({ baseUrl: api.url, token: await tokenFor('alice') });
    const endpoint = await client.webhooks.create({ url: target.url, events: ['job.completed'] });
    webhookEndpointSchema.parse(endpoint);
    expect(await client.webhooks.list()).toEqual([{ ...endpoint, secret: undefined }].map(({ secret: _s, ...rest }) => rest));

    const rotated = await client.webhooks.rotateSecret(endpoint.id);
    expect(rotated.secret).not.toBe(endpoint.secret);
    await client.enqueue('demo.work', { durationMs: 1 });
    const [delivery] = await waitUntil('a delivered entry', async () => {
      const log = await client.webhooks.deliveries(endpoint.id, { limit: 5 });
      return log[0]?.status === 'delivered' && log;
    });
    webhookDeliverySchema.parse(delivery);
    // Signed with the new secret, and with the old one during the grace period.
    const [received] = target.requests;
    for (const secret of [rotated.secret, endpoint.secret]) new Webhook(secret).verify(received!.body, received!.headers as Record<string, string>);

    expect(await client.webhooks.redeliver(endpoint.id, delivery!.id)).toMatchObject({ id: delivery!.id, status: 'pending' });
    await waitUntil('the redelivery', () => target.delivered().length === 2);
    await client.webhooks.delete(endpoint.id);
    expect(await client.webhooks.list()).toEqual([]);
  });

  it('rejects a refused target, another user\'s endpoint and one over the cap with typed errors', async () => {
    const alice = createClient({ baseUrl: api.url, token: await tokenFor('alice') });
    const mallory = createClient({ baseUrl: api.url, token: await tokenFor('mallory') });
    await expect(alice.webhooks.create({ url: 'http://169.254.169.254/', events: ['notification'] })).rejects.toMatchObject({
      constructor: ValidationError,
      code: 'WEBHOOK_TARGET_REFUSED',
    });
    const endpoint = await alice.webhooks.create({ url: target.url, events: ['notification'] });
    await expect(alice.webhooks.create({ url: target.url, events: ['notification'] })).rejects.toBeInstanceOf(RateLimitError);
    await expect(mallory.webhooks.delete(endpoint.id)).rejects.toMatchObject({ constructor: NotFoundError, code: 'WEBHOOK_NOT_FOUND' });
    await expect(mallory.webhooks.deliveries(endpoint.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await alice.webhooks.list()).map((e) => e.id)).toEqual([endpoint.id]);
  });
});
