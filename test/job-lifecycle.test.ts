import type { ApiServer } from '@jobstream/api';
import type { WorkerService } from '@jobstream/worker';
import { http } from '../test-support/http';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';

const names = (events: ReceivedEvent[]) => events.map((e) => e.event);
const terminal = (events: ReceivedEvent[]) =>
  events.filter((e) => e.event === 'completed' || (e.event === 'failed' && e.data.willRetry === false));

describe('job lifecycle over SSE', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService | undefined;

  beforeEach(async () => {
    env = testEnv();
    api = await startApi(env);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const enqueue = async (payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload, ...extra });
    expect(res.status).toBe(202);
    return res.body as { jobId: string; state: string; links: { self: string; events: string } };
  };

  it('answers 202 with a job id and links, and the snapshot shows the waiting job', async () => {
    const job = await enqueue({ durationMs: 10 });
    expect(job).toMatchObject({ type: 'demo.work', state: 'waiting', links: { self: `/api/jobs/${job.jobId}` } });
    const snapshot = await http('GET', `${api.url}${job.links.self}`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.body).toMatchObject({ jobId: job.jobId, type: 'demo.work', state: 'waiting', progress: 0, attemptsMade: 0 });
    const alias = await http('GET', `${api.url}/api/job-status/${job.jobId}`);
    expect(alias.body).toEqual(snapshot.body);
  });

  it('streams connected, waiting, active, progress and completed to a subscriber who connects before the job starts, then ends', async () => {
    const job = await enqueue({ durationMs: 300, steps: 3, result: { answer: 42 } });
    const stream = await connectSse(`${api.url}${job.links.events}`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['cache-control']).toContain('no-cache');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    await stream.waitFor((events) => events[0]?.event === 'connected');
    worker = await startWorker(env);
    await stream.ended;

    expect(stream.events[0]).toMatchObject({ event: 'connected', retry: 3000, data: { jobId: job.jobId, job: { state: 'waiting' } } });
    expect(names(stream.lifecycle())).toEqual(['waiting', 'active', 'progress', 'progress', 'progress', 'completed']);
    const progress = stream.events.filter((e) => e.event === 'progress').map((e) => e.data.progress);
    expect(progress).toEqual([33, 67, 100]);
    const completed = stream.events.at(-1)!;
    expect(completed.data).toMatchObject({ jobId: job.jobId, result: { answer: 42 } });
    expect(completed.data.duration).toBeGreaterThanOrEqual(250);
    for (const e of stream.events) {
      expect(e.data.jobId).toBe(job.jobId);
      expect(new Date(String(e.data.timestamp)).toISOString()).toBe(e.data.timestamp);
    }
  });

  it('sends the snapshot and then every event to a subscriber who connects while the job runs', async () => {
    worker = await startWorker(env);
    const job = await enqueue({ durationMs: 1500, steps: 5 });
    await waitForState(api.url, job.jobId, 'active');
    const stream = await connectSse(`${api.url}${job.links.events}`);
    await stream.ended;
    expect(stream.events[0]).toMatchObject({ event: 'connected', data: { job: { state: 'active' } } });
    expect(names(stream.lifecycle())).toEqual(['waiting', 'active', 'progress', 'progress', 'progress', 'progress', 'progress', 'completed']);
    expect(terminal(stream.events)).toHaveLength(1);
  });

  it('sends the outcome to a subscriber who connects after the job finished', async () => {
    worker = await startWorker(env);
    const job = await enqueue({ durationMs: 10, result: 'done' });
    await waitForState(api.url, job.jobId, 'completed');
    const stream = await connectSse(`${api.url}/api/job-events?jobId=${job.jobId}`);
    await stream.ended;
    expect(stream.events[0]).toMatchObject({ event: 'connected', data: { job: { state: 'completed', result: 'done' } } });
    expect(names(stream.lifecycle())).toEqual(['waiting', 'active', 'completed']);
    expect(stream.events.at(-1)?.data.result).toBe('done');
  });

  it('shows a failed attempt that will be retried, then the later attempt and the outcome', async () => {
    worker = await startWorker(env);
    const job = await enqueue({ durationMs: 10, failAttempts: 1 });
    const stream = await connectSse(`${api.url}${job.links.events}`);
    await stream.ended;
    const lifecycle = stream.lifecycle();
    expect(names(lifecycle)).toEqual(['waiting', 'active', 'failed', 'delayed', 'waiting', 'active', 'completed']);
    expect(lifecycle[2]?.data).toMatchObject({ attemptsMade: 1, willRetry: true, error: expect.stringContaining('on purpose') });
    const snapshot = await http('GET', `${api.url}${job.links.self}`);
    expect(snapshot.body).toMatchObject({ state: 'completed', attemptsMade: 2 });
  });

  it('ends with one failed event that will not be retried when every attempt fails', async () => {
    worker = await startWorker(env);
    const job = await enqueue({ durationMs: 5, failAttempts: 5 });
    const stream = await connectSse(`${api.url}${job.links.events}`);
    await stream.ended;
    const failures = stream.events.filter((e) => e.event === 'failed');
    expect(failures.map((e) => e.data.willRetry)).toEqual([true, true, false]);
    expect(failures.at(-1)?.data).toMatchObject({ attemptsMade: 3 });
    expect(terminal(stream.events)).toHaveLength(1);
    const snapshot = await http('GET', `${api.url}${job.links.self}`);
    expect(snapshot.body).toMatchObject({ state: 'failed', attemptsMade: 3, error: expect.stringContaining('on purpose') });
  });

  it('returns the same job for the same idempotency key and enqueues nothing new', async () => {
    const first = await enqueue({ durationMs: 10 }, { idempotencyKey: 'order-17' });
    const again = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 }, idempotencyKey: 'order-17' });
    expect(again.status).toBe(202);
    expect(again.body.jobId).toBe(first.jobId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const byHeader = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } }, { 'Idempotency-Key': 'order-17' });
    expect(byHeader.body.jobId).toBe(first.jobId);
    const stats = await http('GET', `${api.url}/api/queue/stats`);
    expect(stats.body.counts.waiting).toBe(1);
  });

  it('refuses an idempotency key reused for a different submission with 409', async () => {
    await enqueue({ durationMs: 10 }, { idempotencyKey: 'k-1' });
    const other = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 20 }, idempotencyKey: 'k-1' });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('runs flashcards.generate through the route the first clients call', async () => {
    worker = await startWorker(env);
    const res = await http('POST', `${api.url}/api/ai/generate-flashcards`, {
      content: 'Photosynthesis is the process by which plants turn light into chemical energy. Chlorophyll absorbs mostly blue and red light.',
      subject: 'Biology',
      topic: 'Plants',
      count: 2,
      userId: 'legacy-client-field',
    });
    expect(res.status).toBe(202);
    expect(res.body.type).toBe('flashcards.generate');
    const stream = await connectSse(`${api.url}${res.body.links.events}`);
    await stream.ended;
    const completed = stream.events.at(-1)!;
    expect(completed.event).toBe('completed');
    const result = completed.data.result as { flashcards: unknown[]; tokenUsage: { totalTokens: number }; provider: string };
    expect(result.flashcards).toHaveLength(2);
    expect(result.tokenUsage.totalTokens).toBeGreaterThan(0);
    expect(result.provider).toBe('local');
  });
});

export async function waitForState(baseUrl: string, jobId: string, state: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await http('GET', `${baseUrl}/api/jobs/${jobId}`);
    if (res.body?.state === state) return;
    if (Date.now() > deadline) throw new Error(`job ${jobId} not ${state} (is ${res.body?.state})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
