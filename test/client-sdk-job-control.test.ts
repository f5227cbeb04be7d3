import type { ApiServer } from '@jobstream/api';
import { ConflictError, createClient, ForbiddenError, NotFoundError, ValidationError, type JobstreamClient, type JobWatchItem, type LifecycleEvent } from '@jobstream/client';
import { adminJobListResponseSchema, cancelJobResponseSchema, enqueueResponseSchema, jobSnapshotSchema } from '@jobstream/contracts';
import type { WorkerService } from '@jobstream/worker';
import { tokenFor } from '../test-support/auth';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

const lifecycleOf = (items: JobWatchItem[]) => items.filter((i): i is LifecycleEvent => i.event !== 'snapshot');

/** The SDK's job control against a real api, worker and Redis: cancel, retry, the admin's browser and clean-up. */
describe('the client SDK: job control', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let alice: JobstreamClient;
  let mallory: JobstreamClient;
  let admin: JobstreamClient;

  beforeAll(async () => {
    env = testEnv();
    api = await startApi(env);
    worker = await startWorker(env);
    alice = createClient({ baseUrl: api.url, token: await tokenFor('alice') });
    mallory = createClient({ baseUrl: api.url, token: await tokenFor('mallory') });
    admin = createClient({ baseUrl: api.url, token: await tokenFor('sdk-ops', ['admin']) });
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const untilState = (jobId: string, state: string) => waitUntil(`job ${jobId} ${state}`, async () => (await alice.getJob(jobId)).state === state, 20_000, 50);

  it('cancels a running job: its watch ends with cancelled, the job reads failed and cancelled by its owner, and cancelling again is a ConflictError', async () => {
    const { jobId } = await alice.enqueue('demo.work', { durationMs: 30_000, steps: 30 });
    await untilState(jobId, 'active');
    const watch = alice.watchJob(jobId);
    const items: JobWatchItem[] = [];
    const done = (async () => {
      for await (const item of watch) items.push(item);
    })();
    await waitUntil('the watch to be live', () => watch.connectionState === 'live');

    await expect(mallory.cancelJob(jobId)).rejects.toBeInstanceOf(NotFoundError);
    const answer = await alice.cancelJob(jobId);
    expect(cancelJobResponseSchema.parse(answer)).toEqual({ jobId, action: 'stop_requested' });
    await done;
    expect(lifecycleOf(items).at(-1)).toMatchObject({ event: 'cancelled', data: { by: 'owner', previousState: 'active' } });
    expect(watch.job).toMatchObject({ state: 'failed', cancelledBy: 'owner' });
    const snapshot = await alice.getJob(jobId);
    expect(jobSnapshotSchema.parse(snapshot)).toMatchObject({ state: 'failed', cancelledBy: 'owner' });
    const again = alice.cancelJob(jobId);
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toMatchObject({ status: 409, code: 'JOB_ALREADY_FINISHED' });
  });

  it('retries a failed job: a watch resumed from its last event id follows the new run to completed, and a watch from the start sees both runs to the end', async () => {
    const { jobId } = await alice.enqueue('demo.work', { durationMs: 1, failAttempts: 3, result: { second: 'run' } });
    const first: JobWatchItem[] = [];
    const watch = alice.watchJob(jobId);
    for await (const item of watch) first.push(item);
    expect(lifecycleOf(first).at(-1)).toMatchObject({ event: 'failed', data: { willRetry: false } });

    const retried = await alice.retryJob(jobId);
    expect(enqueueResponseSchema.parse(retried)).toMatchObject({ jobId, state: 'waiting' });
    const resumed: JobWatchItem[] = [];
    for await (const item of alice.watchJob(jobId, { lastEventId: watch.lastEventId })) resumed.push(item);
    const events = lifecycleOf(resumed);
    expect(events[0]?.event).toBe('waiting');
    expect(events.at(-1)).toMatchObject({ event: 'completed', data: { result: { second: 'run' } } });

    // A watch from the start sees both runs: the first run's outcome, marked retried, does not end it.
    const fresh: JobWatchItem[] = [];
    for await (const item of alice.watchJob(jobId)) fresh.push(item);
    const all = lifecycleOf(fresh);
    expect(all.map((e) => e.id)).toEqual([...lifecycleOf(first), ...events].map((e) => e.id));
    expect(all.find((e) => e.id === lifecycleOf(first).at(-1)?.id)).toMatchObject({ event: 'failed', data: { willRetry: false, retried: true } });
    expect(all.at(-1)).toMatchObject({ event: 'completed', data: { result: { second: 'run' } } });
    const notFailed = alice.retryJob(jobId);
    await expect(notFailed).rejects.toBeInstanceOf(ConflictError);
    await expect(notFailed).rejects.toMatchObject({ code: 'JOB_NOT_RETRYABLE' });
  });

  it('lets an admin browse failed jobs page by page and clean finished ones; a plain user gets a ForbiddenError and bad input a ValidationError', async () => {
    const failed = [];
    for (let i = 0; i < 3; i += 1) failed.push((await alice.enqueue('demo.work', { durationMs: 1, failAttempts: 3 })).jobId);
    for (const jobId of failed) await untilState(jobId, 'failed');

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.listJobsByState({ state: 'failed', limit: 2, ...(cursor ? { cursor } : {}) });
      expect(adminJobListResponseSchema.parse(page)).toEqual(page);
      seen.push(...page.jobs.map((job) => job.jobId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(failed));
    await expect(alice.listJobsByState({ state: 'failed' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(admin.cleanJobs({ state: 'failed', olderThanSeconds: -1 })).rejects.toBeInstanceOf(ValidationError);

    const cleaned = await admin.cleanJobs({ state: 'failed', olderThanSeconds: 0 });
    expect(cleaned.state).toBe('failed');
    expect(cleaned.removed).toBeGreaterThanOrEqual(failed.length);
    await expect(alice.getJob(failed[0] as string)).rejects.toBeInstanceOf(NotFoundError);
    expect((await admin.listJobsByState({ state: 'failed' })).jobs).toEqual([]);
  });
});
