import type { ApiServer } from '@jobstream/api';
import { createClient, type FlashcardsResult, type JobstreamClient } from '@jobstream/client';
import { flashcardsGenerate } from '@jobstream/contracts';
import type { WorkerService } from '@jobstream/worker';
import { tokenFor } from '../test-support/auth';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';

/**
 * The SDK's results typed by job type, at run time against a real api, worker and Redis (the types
 * themselves are checked by client-typed-results.types.ts).
 */
describe('the client SDK: results typed by job type', () => {
  let env: Record<string, string>;
  let api: ApiServer & { url: string };
  let worker: WorkerService;
  let client: JobstreamClient;

  beforeAll(async () => {
    env = testEnv();
    api = await startApi(env);
    worker = await startWorker(env);
    client = createClient({ baseUrl: api.url, token: await tokenFor('alice') });
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX as string);
  });

  const payload = { content: 'Mitochondria are the powerhouse of the cell. Ribosomes make proteins.', subject: 'Biology', topic: 'Cells', count: 2 };

  it('resolves a watch of the id enqueue returned with the flashcards result, which its schema accepts', async () => {
    const { jobId, type } = await client.enqueue('flashcards.generate', payload);
    expect(type).toBe('flashcards.generate');
    const job = await client.watchJob(jobId).done;
    expect(job?.state).toBe('completed');
    const result: FlashcardsResult | undefined = job?.result;
    expect(flashcardsGenerate.result.parse(result)).toEqual(result);
    expect(result?.provider).toBe('local');
    expect(result?.flashcards.length).toBeGreaterThan(0);
    expect(result?.flashcards.every((card) => card.front.length > 0 && card.back.length > 0)).toBe(true);
    expect((await client.getJob(jobId)).result).toEqual(result);
  });

  it('yields the completed event with the same result to an iterating watch, typed by a type the caller names for a plain id', async () => {
    const { jobId } = await client.enqueue('flashcards.generate', payload);
    const plainId: string = jobId;
    let completed: FlashcardsResult | undefined;
    for await (const item of client.watchJob<'flashcards.generate'>(plainId)) {
      if (item.event === 'completed') completed = item.data.result;
    }
    expect(completed?.tokenUsage.totalTokens).toBe((completed?.tokenUsage.promptTokens ?? NaN) + (completed?.tokenUsage.completionTokens ?? NaN));
    expect(completed).toEqual((await client.getJob(plainId)).result);
  });
});
