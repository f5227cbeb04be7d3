import { jobstreamKeys } from '@jobstream/runtime';
import type { WorkerService } from '@jobstream/worker';
import { cleanupPrefix, startWorker, testEnv, testRedisClient, testRedisUrl } from '../test-support/services';
import { waitUntil } from '../test-support/wait';

/**
 * BullMQ caps its event stream. A relay that was away while more events came than the cap keeps
 * finds the entries after its cursor trimmed: those events are lost, and the relay must say so.
 */
describe('the relay, taking over after BullMQ trimmed its event stream', () => {
  let env: ReturnType<typeof testEnv>;
  let worker: WorkerService | undefined;
  const redis = testRedisClient();

  beforeEach(() => {
    env = testEnv();
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  });

  afterAll(() => redis.disconnect());

  /** Five `waiting` events of made-up jobs; the relay's cursor at the `cursorAt`-th (1-based); then all but `keep` trimmed. */
  async function eventsTrimmedAfter(cursorAt: number, keep: number): Promise<void> {
    const keys = jobstreamKeys({ prefix: env.QUEUE_PREFIX, name: 'jobs' });
    const ids: string[] = [];
    for (let i = 1; i <= 5; i += 1) ids.push((await redis.xadd(keys.bullEvents, '*', 'event', 'waiting', 'jobId', `gone-${i}`, 'prev', 'added')) as string);
    await redis.set(keys.relayCursor, ids[cursorAt - 1]!);
    await redis.xtrim(keys.bullEvents, 'MAXLEN', keep);
  }

  it('counts a gap when entries after its cursor were trimmed', async () => {
    await eventsTrimmedAfter(2, 1);
    worker = await startWorker(env);
    await waitUntil('the relay to report the gap', () => worker!.relay!.getStats().gaps === 1);
  });

  it('counts none when every entry after its cursor is still there', async () => {
    await eventsTrimmedAfter(4, 2);
    worker = await startWorker(env);
    await waitUntil('the relay to relay the last event', () => worker!.relay!.getStats().relayed >= 1);
    expect(worker.relay!.getStats().gaps).toBe(0);
  });
});
