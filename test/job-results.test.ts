import { demoWork, flashcardsGenerate } from '@jobstream/contracts';
import { defineJobHandler, type WorkerServiceOptions } from '@jobstream/worker';
import { http } from '../test-support/http';
import { connectSse, type ReceivedEvent } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';

const cards = { content: 'Mitochondria are the powerhouse of the cell.', subject: 'Biology', topic: 'Cells', count: 1 };

/** Submits one job through the api to a worker running `handlers`, and returns its whole event stream. */
async function runJob(type: string, payload: unknown, handlers: WorkerServiceOptions['handlers'] = {}): Promise<{ events: ReceivedEvent[]; snapshot: any }> {
  const env = testEnv();
  const api = await startApi(env);
  const worker = await startWorker(env, { handlers });
  try {
    const res = await http('POST', `${api.url}/api/jobs`, { type, payload });
    expect(res.status).toBe(202);
    const stream = await connectSse(`${api.url}${res.body.links.events}`);
    await stream.ended;
    const snapshot = await http('GET', `${api.url}/api/jobs/${res.body.jobId}`);
    return { events: stream.lifecycle(), snapshot: snapshot.body };
  } finally {
    await worker.close();
    await api.close();
    await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
  }
}

describe("the worker checks a processor's result against its job type's result schema", () => {
  it('completes a flashcards job whose result fits the schema, with the result as the processor returned it', async () => {
    const { events } = await runJob('flashcards.generate', cards);
    const completed = events.at(-1);
    expect(completed?.event).toBe('completed');
    expect(flashcardsGenerate.result.safeParse(completed?.data.result).success).toBe(true);
    expect(completed?.data.result).toMatchObject({ provider: 'local', flashcards: [expect.objectContaining({ front: expect.any(String) })] });
  });

  it('fails a job whose processor returns a card with an empty back, at once and with an error naming the field', async () => {
    const emptyBack = defineJobHandler(flashcardsGenerate, () =>
      Promise.resolve({ flashcards: [{ front: 'What are mitochondria?', back: '' }], tokenUsage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, provider: 'test' }),
    );
    const { events, snapshot } = await runJob('flashcards.generate', cards, { 'flashcards.generate': emptyBack });
    expect(events.map((e) => e.event)).toEqual(['waiting', 'active', 'failed']);
    expect(events.at(-1)?.data).toMatchObject({
      willRetry: false,
      attemptsMade: 1,
      error: 'invalid result from the flashcards.generate processor: result.flashcards.0.back: Too small: expected string to have >=1 characters',
    });
    expect(snapshot).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(snapshot.result).toBeUndefined();
  });

  it('fails a demo.work job whose processor returns nothing, since a result must be JSON', async () => {
    // @ts-expect-error the point of the test: a processor that returns no value
    const returnsNothing = defineJobHandler(demoWork, () => Promise.resolve(undefined));
    const { events } = await runJob('demo.work', { durationMs: 1 }, { 'demo.work': returnsNothing });
    expect(events.at(-1)).toMatchObject({
      event: 'failed',
      data: { willRetry: false, attemptsMade: 1, error: expect.stringMatching(/^invalid result from the demo\.work processor: result: /) },
    });
  });
});
