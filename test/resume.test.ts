import type { ApiServer } from '@jobstream/api';
import { jobstreamKeys } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { Redis } from 'ioredis';
import { http } from '../test-support/http';
import { trimJobHistory } from '../test-support/job-history';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';
import { withDefaultAuth } from '../test-support/auth';

const ids = (events: ReceivedEvent[]) => events.filter((e) => e.id !== undefined).map((e) => e.id as string);

describe('resuming a job stream', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;

  beforeEach(async () => {
    env = testEnv();
    api = await startApi(env);
    worker = await startWorker(env);
  });

  afterEach(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  /** Runs a job to the end and returns every lifecycle event a fresh subscriber sees. */
  const runJob = async (payload: Record<string, unknown>) => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload });
    const jobId = res.body.jobId as string;
    const stream = await connectSse(`${api.url}/api/jobs/${jobId}/events`);
    await stream.ended;
    return { jobId, events: stream.lifecycle() };
  };

  it('sends exactly the events after the Last-Event-ID header, in order', async () => {
    const { jobId, events } = await runJob({ durationMs: 100, steps: 4 });
    expect(events.length).toBe(7);
    const cursor = events[2]!.id!;
    const resumed = await connectSse(`${api.url}/api/jobs/${jobId}/events`, { 'Last-Event-ID': cursor });
    await resumed.ended;
    expect(resumed.events[0]?.event).toBe('connected');
    expect(ids(resumed.events)).toEqual(ids(events).slice(3));
    expect(resumed.lifecycle().map((e) => e.data)).toEqual(events.slice(3).map((e) => e.data));
  });

  it('takes the cursor from the lastEventId query parameter on a first connect', async () => {
    const { jobId, events } = await runJob({ durationMs: 20, steps: 2 });
    const resumed = await connectSse(`${api.url}/api/jobs/${jobId}/events?lastEventId=${events[1]!.id}`);
    await resumed.ended;
    expect(ids(resumed.events)).toEqual(ids(events).slice(2));
  });

  it('answers 204 to a reconnect that already has the terminal event, so the browser stops retrying', async () => {
    const { jobId, events } = await runJob({ durationMs: 10 });
    const res = await fetch(`${api.url}/api/jobs/${jobId}/events`, { headers: await withDefaultAuth({ 'Last-Event-ID': events.at(-1)!.id! }) });
    expect(res.status).toBe(204);
  });

  it('loses nothing and repeats nothing across disconnects while the job runs', async () => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 2_000, steps: 20 } });
    const url = `${api.url}/api/jobs/${res.body.jobId}/events`;
    const received: ReceivedEvent[] = [];
    let lastId: string | undefined;
    for (let round = 0; round < 50; round += 1) {
      const stream = await connectSse(url, lastId ? { 'Last-Event-ID': lastId } : {});
      if (stream.status === 204) break;
      // Read a few events, then drop the connection as a flaky mobile network would.
      await Promise.race([stream.waitFor((e) => e.filter((x) => x.id).length >= 3, 2_000).catch(() => undefined), stream.ended]);
      stream.close();
      received.push(...stream.lifecycle());
      lastId = received.at(-1)?.id ?? lastId;
      if (received.at(-1)?.event === 'completed') break;
    }
    const fresh = await connectSse(url);
    await fresh.ended;
    expect(ids(received)).toEqual(ids(fresh.events));
    expect(new Set(ids(received)).size).toBe(received.length);
    expect(received.at(-1)?.event).toBe('completed');
  });

  it('sends an explicit reset with a fresh snapshot when the history no longer covers the cursor', async () => {
    const { jobId, events } = await runJob({ durationMs: 50, steps: 5 });
    const redis = new Redis(testRedisUrl());
    const keys = jobstreamKeys({ prefix: env.QUEUE_PREFIX as string, name: 'jobs' });
    await trimJobHistory(redis, keys, jobId, 2);
    redis.disconnect();

    const resumed = await connectSse(`${api.url}/api/jobs/${jobId}/events`, { 'Last-Event-ID': events[1]!.id! });
    await resumed.ended;
    expect(resumed.events.map((e) => e.event)).toEqual(['connected', 'reset', 'progress', 'completed']);
    expect(resumed.events[1]?.data).toMatchObject({ reason: 'history_unavailable', job: { jobId, state: 'completed' } });
    expect(ids(resumed.events)).toEqual(ids(events).slice(-2));
  });

  it('treats a cursor newer than anything stored as not covered and resets', async () => {
    const { jobId } = await runJob({ durationMs: 10 });
    const resumed = await connectSse(`${api.url}/api/jobs/${jobId}/events`, { 'Last-Event-ID': '99999999999999-0' });
    await resumed.ended;
    expect(resumed.events.map((e) => e.event)).toEqual(['connected', 'reset', 'waiting', 'active', 'completed']);
  });

  it('rejects a malformed Last-Event-ID with 400 INVALID_LAST_EVENT_ID', async () => {
    const { jobId } = await runJob({ durationMs: 10 });
    for (const bad of ['abc', '1-2-3', '1700000000000', '-1-0']) {
      const res = await http('GET', `${api.url}/api/jobs/${jobId}/events`, undefined, { 'Last-Event-ID': bad });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_LAST_EVENT_ID');
    }
  });
});
