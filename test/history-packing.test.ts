import type { ApiServer } from '@jobstream/api';
import { ConfigError, JOB_HISTORY_FIELD, compareStreamIds, jobstreamKeys, readHistory, type JobstreamKeys, type RedisClient } from '@jobstream/runtime';
import { loadConfig as loadWorkerConfig, type WorkerService } from '@jobstream/worker';
import { withDefaultAuth } from '../test-support/auth';
import { http } from '../test-support/http';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisClient, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

const ids = (events: ReceivedEvent[]): string[] => events.filter((e) => e.id !== undefined).map((e) => e.id as string);

/**
 * A finished job's history moves from its stream into its job hash (history-lua.ts): clients must
 * not be able to tell, from any cursor, on a job that ran once or was retried after it finished.
 */
describe("a finished job's packed history", () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let redis: RedisClient;
  let keys: JobstreamKeys;

  const start = async (workerEnv: Record<string, string> = {}): Promise<void> => {
    env = testEnv();
    keys = jobstreamKeys({ prefix: env.QUEUE_PREFIX as string, name: 'jobs' });
    api = await startApi(env);
    worker = await startWorker({ ...env, ...workerEnv });
  };

  beforeEach(() => {
    redis = testRedisClient();
  });

  afterEach(async () => {
    await worker.close();
    await api.close();
    redis.disconnect();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const submit = async (payload: Record<string, unknown>): Promise<string> => {
    const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload });
    expect(res.status).toBe(202);
    return res.body.jobId as string;
  };

  const watch = async (jobId: string, cursor?: string): Promise<ReceivedEvent[]> => {
    const stream = await connectSse(`${api.url}/api/jobs/${jobId}/events`, cursor ? { 'Last-Event-ID': cursor } : {});
    await stream.ended;
    return stream.events;
  };

  const packed = async (jobId: string): Promise<boolean> => (await redis.hexists(keys.job(jobId), JOB_HISTORY_FIELD)) === 1;

  it('is replayed whole to a new stream and, from every cursor, with exactly the events after it', async () => {
    await start();
    const jobId = await submit({ durationMs: 60, steps: 3 });
    const live = (await watch(jobId)).filter((e) => e.id !== undefined);
    await waitUntil('the history to be packed', () => packed(jobId));
    expect(await redis.exists(keys.history(jobId))).toBe(0);

    const replayed = await watch(jobId);
    expect(replayed[0]).toMatchObject({ event: 'connected', data: { job: { state: 'completed' } } });
    expect(ids(replayed)).toEqual(ids(live));
    expect(replayed.filter((e) => e.id !== undefined).map((e) => e.data)).toEqual(live.map((e) => e.data));
    for (const [i, event] of live.slice(0, -1).entries()) {
      expect(ids(await watch(jobId, event.id))).toEqual(ids(live).slice(i + 1));
    }
    const res = await fetch(`${api.url}/api/jobs/${jobId}/events`, { headers: await withDefaultAuth({ 'Last-Event-ID': live.at(-1)!.id! }) });
    expect(res.status).toBe(204);
  });

  it("keeps a job retried after it failed as one history: a stream from the start or from any cursor sends both runs to the end, the first outcome marked retried", async () => {
    await start();
    const jobId = await submit({ durationMs: 1, failAttempts: 3, result: { again: true } });
    const firstRun = (await watch(jobId)).filter((e) => e.id !== undefined);
    expect(firstRun.at(-1)).toMatchObject({ event: 'failed', data: { willRetry: false } });
    await waitUntil('the first run to be packed', () => packed(jobId));

    expect((await http('POST', `${api.url}/api/jobs/${jobId}/retry`, {})).status).toBe(202);
    const secondRun = (await watch(jobId, firstRun.at(-1)!.id)).filter((e) => e.id !== undefined);
    expect(secondRun[0]?.event).toBe('waiting');
    expect(secondRun.at(-1)).toMatchObject({ event: 'completed', data: { result: { again: true } } });
    await waitUntil('both runs to be packed', async () => (await packed(jobId)) && (await redis.exists(keys.history(jobId))) === 0);

    const all = [...ids(firstRun), ...ids(secondRun)];
    expect((await readHistory(redis, keys, jobId)).events.map((e) => e.id)).toEqual(all);
    expect([...all].sort(compareStreamIds)).toEqual(all);
    expect(new Set(all).size).toBe(all.length);
    expect(ids(await watch(jobId, firstRun.at(-1)!.id))).toEqual(ids(secondRun));
    expect(ids(await watch(jobId, secondRun[0]!.id))).toEqual(ids(secondRun).slice(1));
    // From the start, and from a cursor in the first run: both runs, the first outcome marked retried.
    const replayed = (await watch(jobId)).filter((e) => e.id !== undefined);
    expect(ids(replayed)).toEqual(all);
    expect(replayed[firstRun.length - 1]).toMatchObject({ event: 'failed', data: { willRetry: false, retried: true } });
    expect(replayed.filter((e) => (e.data as { retried?: boolean }).retried)).toHaveLength(1);
    expect(ids(await watch(jobId, firstRun[0]!.id))).toEqual(all.slice(1));
  });

  it('stays a stream, kept for the job retention, when packing is turned off', async () => {
    await start({ RELAY_HISTORY_PACK_MAX_BYTES: '0' });
    const jobId = await submit({ durationMs: 10, steps: 2 });
    const live = (await watch(jobId)).filter((e) => e.id !== undefined);
    await waitUntil('the history to be stored at its size', async () => (await redis.pttl(keys.history(jobId))) > 0 && (await redis.xlen(keys.history(jobId))) === live.length);
    expect(await packed(jobId)).toBe(false);
    expect(ids(await watch(jobId, live[0]!.id))).toEqual(ids(live).slice(1));
  });

  it('refuses a packing limit past 64 KiB by its variable name', () => {
    expect(() => loadWorkerConfig({ RELAY_HISTORY_PACK_MAX_BYTES: '70000' })).toThrow(ConfigError);
    expect(() => loadWorkerConfig({ RELAY_HISTORY_PACK_MAX_BYTES: '70000' })).toThrow(/RELAY_HISTORY_PACK_MAX_BYTES/);
    expect(loadWorkerConfig({}).relay.historyPackMaxBytes).toBe(8_192);
  });
});
