import type { ApiServer } from '@jobstream/api';
import { decodeFeedEntry, FEED_INLINE_MAX_BYTES, jobstreamKeys, type StreamEntry } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { readJobHistories } from '../test-support/job-history';
import { http } from '../test-support/http';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisClient, testRedisUrl } from '../test-support/services';
import { connectSse } from '../test-support/sse-client';

/** A result whose completed event is stored with more than FEED_INLINE_MAX_BYTES of data. */
const LARGE_RESULT = { text: 'y'.repeat(FEED_INLINE_MAX_BYTES * 2) };

/**
 * The live feed carries small events inside their entries, so readers need not read the job's
 * history for them; a larger event is only pointed at. Streams get the same events either way.
 */
describe('the live feed', () => {
  let env: ReturnType<typeof testEnv>;
  let api: ApiServer & { url: string };
  const workers: WorkerService[] = [];

  beforeAll(async () => {
    env = testEnv();
    api = await startApi(env);
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  async function feedEntriesOf(jobId: string): Promise<NonNullable<ReturnType<typeof decodeFeedEntry>>[]> {
    const redis = testRedisClient();
    try {
      const keys = jobstreamKeys({ prefix: env.QUEUE_PREFIX, name: 'jobs' });
      const entries = (await redis.xrange(keys.feed, '-', '+')) as StreamEntry[];
      return entries.map(decodeFeedEntry).filter((e): e is NonNullable<typeof e> => e?.jobId === jobId);
    } finally {
      redis.disconnect();
    }
  }

  it('carries small events inside their entries and points at a large one; a stream gets both kinds in order, each once', async () => {
    // No worker yet: the job waits, and its stream is open before any of its events is relayed,
    // so the events after `waiting` reach the stream live, most of them in one feed batch.
    const submitted = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 0, steps: 3, result: LARGE_RESULT } });
    expect(submitted.status).toBe(202);
    const jobId = submitted.body.jobId as string;
    const stream = await connectSse(`${api.url}/api/jobs/${jobId}/events`);
    workers.push(await startWorker(env));
    await stream.ended;

    const history = (await readJobHistories(testRedisUrl(), env, [jobId])).get(jobId)!;
    const received = stream.lifecycle();
    expect(received.map((e) => [e.id, e.event])).toEqual(history.map((e) => [e.id, e.event]));
    expect(received.filter((e) => e.event === 'progress')).toHaveLength(3);
    expect(received.at(-1)!.data).toMatchObject({ result: LARGE_RESULT });

    const feed = await feedEntriesOf(jobId);
    expect(feed.map((e) => e.historyId)).toEqual(history.map((e) => e.id));
    const carried = feed.filter((e) => e.stored).map((e) => history.find((h) => h.id === e.historyId)!.event);
    const pointed = feed.filter((e) => !e.stored).map((e) => history.find((h) => h.id === e.historyId)!.event);
    expect(carried).toEqual(expect.arrayContaining(['active', 'progress']));
    expect(pointed).toEqual(['completed']);
  });
});
