import type { ApiServer } from '@jobstream/api';
import { webhookDeliveryListSchema, webhookPayloadSchema } from '@jobstream/contracts';
import type { WorkerService } from '@jobstream/worker';
import { Webhook } from 'standardwebhooks';
import { authHeaders } from '../test-support/auth';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl, type TestEnv } from '../test-support/services';
import { waitUntil } from '../test-support/wait';
import { startReceiver, type Receiver } from '../test-support/webhook-receiver';

describe('job callbacks', () => {
  let env: TestEnv;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let target: Receiver;

  beforeEach(async () => {
    env = testEnv({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
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

  const enqueue = async (payload: Record<string, unknown>, callbackUrl?: string) => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload, ...(callbackUrl ? { callbackUrl } : {}) });
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  };
  const stateOf = async (jobId: string) => (await http('GET', `${api.url}/api/jobs/${jobId}`)).body.state as string;

  it("POSTs each job's outcome once to its callbackUrl, signed with the job-callbacks secret, and nothing for a job without one", async () => {
    const created = await http('POST', `${api.url}/api/webhooks/job-callbacks`, {});
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'callbacks', url: null, events: ['job.completed', 'job.failed'], enabled: true });
    const again = await http('POST', `${api.url}/api/webhooks/job-callbacks`);
    expect([again.status, again.body.id, again.body.secret]).toEqual([200, created.body.id, undefined]);

    const silent = await enqueue({ durationMs: 1 });
    await waitUntil('the job without a callback to complete', async () => (await stateOf(silent)) === 'completed');
    const completed = await enqueue({ durationMs: 1 }, `${target.url}?job=1`);
    // Fails all three attempts: only its last failure is an outcome.
    const failed = await enqueue({ durationMs: 1, failAttempts: 3 }, `${target.url}?job=2`);
    await waitUntil('two callbacks', () => target.delivered().length === 2);
    await waitUntil('the failing job to fail for good', async () => (await stateOf(failed)) === 'failed');

    const verifier = new Webhook(created.body.secret);
    const outcomes = target.requests.map((r) => webhookPayloadSchema.parse(verifier.verify(r.body, r.headers as Record<string, string>)));
    expect(outcomes.map((o) => [o.type, o.data.jobId]).sort()).toEqual([['job.completed', completed], ['job.failed', failed]].sort());
    expect(outcomes.find((o) => o.type === 'job.failed')?.data).toMatchObject({ willRetry: false });

    const log = webhookDeliveryListSchema.parse((await http('GET', `${api.url}/api/webhooks/${created.body.id}/deliveries`)).body).deliveries;
    expect(log.map((d) => d.url).sort()).toEqual([`${target.url}?job=1`, `${target.url}?job=2`]);
    // Another user's job-callbacks endpoint is their own.
    const bobs = await http('POST', `${api.url}/api/webhooks/job-callbacks`, {}, await authHeaders('bob'));
    expect(bobs.status).toBe(201);
    expect(bobs.body.id).not.toBe(created.body.id);
  });

  it('refuses a callbackUrl before the job-callbacks endpoint exists, and one to a private address', async () => {
    const early = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1 }, callbackUrl: target.url });
    expect([early.status, early.body.code, early.body.details[0].path]).toEqual([400, 'VALIDATION_FAILED', 'callbackUrl']);
    await http('POST', `${api.url}/api/webhooks/job-callbacks`, {});
    for (const callbackUrl of ['http://10.0.0.1/cb', 'http://[::ffff:169.254.169.254]/', 'gopher://example.com/']) {
      const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 1 }, callbackUrl });
      expect({ callbackUrl, status: res.status, code: res.body.code, path: res.body.details?.[0]?.path }).toEqual({ callbackUrl, status: 400, code: 'WEBHOOK_TARGET_REFUSED', path: 'callbackUrl' });
    }
    const flashcards = await http('POST', `${api.url}/api/ai/generate-flashcards`, { content: 'c', subject: 's', topic: 't', callbackUrl: 'http://127.0.0.2/' });
    expect([flashcards.status, flashcards.body.code]).toEqual([400, 'WEBHOOK_TARGET_REFUSED']);
    expect((await http('GET', `${api.url}/api/jobs`)).body.jobs).toEqual([]);
  });
});
