import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http } from '../test-support/http';
import { connectSse } from '../test-support/sse-client';
import { cleanupPrefix, startApi, startWorker, testEnv, testRedisUrl } from '../test-support/services';

/** A local OpenAI-compatible server whose answer each test chooses. */
function fakeOpenAi(answer: (body: any) => { status: number; json: unknown }): Promise<Server> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const { status, json } = answer(JSON.parse(raw || '{}'));
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('flashcards.generate with the OpenAI-compatible provider', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  const run = async (answer: Parameters<typeof fakeOpenAi>[0]) => {
    server = await fakeOpenAi(answer);
    const env = testEnv({
      FLASHCARDS_PROVIDER: 'openai',
      OPENAI_BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      OPENAI_API_KEY: 'sk-test-secret',
      PROVIDER_TIMEOUT_MS: '2000',
    });
    const api = await startApi(env);
    const worker = await startWorker(env);
    try {
      const res = await http('POST', `${api.url}/api/jobs`, {
        type: 'flashcards.generate',
        payload: { content: 'Mitochondria are the powerhouse of the cell.', subject: 'Biology', topic: 'Cells', count: 1 },
      });
      const stream = await connectSse(`${api.url}${res.body.links.events}`);
      await stream.ended;
      return stream.lifecycle();
    } finally {
      await worker.close();
      await api.close();
      await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
    }
  };

  it('completes with the cards and the token usage the provider reported', async () => {
    const events = await run((body) => ({
      status: 200,
      json: {
        model: body.model,
        choices: [{ message: { role: 'assistant', content: JSON.stringify({ flashcards: [{ front: 'What are mitochondria?', back: 'The powerhouse of the cell' }] }) } }],
        usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
      },
    }));
    expect(events.at(-1)?.data.result).toEqual({
      flashcards: [{ front: 'What are mitochondria?', back: 'The powerhouse of the cell' }],
      tokenUsage: { promptTokens: 40, completionTokens: 12, totalTokens: 52 },
      provider: 'openai',
    });
  });

  it('fails the job at once with a clear reason when the provider rejects the request', async () => {
    const events = await run(() => ({ status: 401, json: { error: { message: 'Incorrect API key provided' } } }));
    const failed = events.filter((e) => e.event === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({ willRetry: false, attemptsMade: 1 });
    expect(String(failed[0]?.data.error)).toMatch(/flashcards provider openai: .*401/);
    expect(String(failed[0]?.data.error)).not.toContain('sk-test-secret');
  });

  it('retries while the provider is unavailable and reports the failure when attempts run out', async () => {
    const events = await run(() => ({ status: 503, json: { error: { message: 'overloaded' } } }));
    const failed = events.filter((e) => e.event === 'failed');
    expect(failed.map((e) => e.data.willRetry)).toEqual([true, true, false]);
    expect(String(failed.at(-1)?.data.error)).toMatch(/503/);
  }, 30_000);
});

describe('heartbeats', () => {
  it('sends heartbeat events with the job id at the configured interval on an idle stream', async () => {
    const env = testEnv({ SSE_HEARTBEAT_MS: '150' });
    const api = await startApi(env);
    try {
      const res = await http('POST', `${api.url}/api/jobs`, { type: 'demo.work', payload: { durationMs: 10 } });
      const stream = await connectSse(`${api.url}${res.body.links.events}`);
      await stream.waitFor((events) => events.filter((e) => e.event === 'heartbeat').length >= 3, 5_000);
      const beat = stream.events.find((e) => e.event === 'heartbeat')!;
      expect(beat.id).toBeUndefined();
      expect(beat.data).toEqual({ jobId: res.body.jobId, timestamp: expect.any(String) });
      stream.close();
    } finally {
      await api.close();
      await cleanupPrefix(testRedisUrl(), env.QUEUE_PREFIX);
    }
  });
});
