import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAIProvider, type OpenAIProviderOptions } from './openai-provider';
import { ProviderError } from './provider-error';

const API_KEY = 'sk-test-do-not-leak-0123456789';

interface ReceivedRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface FakeOpenAI {
  baseUrl: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on a free port that answers each request the way `answer` says. */
async function startFakeOpenAI(answer: (res: ServerResponse) => void): Promise<FakeOpenAI> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      answer(res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received,
    async close() {
      // Drops the connections a silent answer left open, or close() would wait for them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(status: number, body: unknown): (res: ServerResponse) => void {
  return (res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

/** A chat completion whose message is `content`, as OpenAI sends it. */
function completion(content: string) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 120, completion_tokens: 40, total_tokens: 160 },
  };
}

const CARDS = [
  { front: 'What is osmosis?', back: 'The diffusion of water through a semi-permeable membrane.' },
  { front: 'Where does osmosis happen in roots?', back: 'In the root hair cells.' },
];

const INPUT = { content: 'Osmosis is the diffusion of water ...', subject: 'Biology', topic: 'Transport', count: 5 };

describe('openai flashcards provider', () => {
  let fake: FakeOpenAI | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  const providerFor = (server: FakeOpenAI, options: Partial<OpenAIProviderOptions> = {}) =>
    createOpenAIProvider({ baseUrl: server.baseUrl, apiKey: API_KEY, model: 'gpt-test', timeoutMs: 2_000, ...options });
  const generate = (server: FakeOpenAI, options: Partial<OpenAIProviderOptions> = {}) =>
    providerFor(server, options).generate(INPUT, new AbortController().signal);

  it('returns the cards and token usage of a good completion', async () => {
    fake = await startFakeOpenAI(json(200, completion(JSON.stringify({ flashcards: CARDS }))));

    await expect(generate(fake)).resolves.toEqual({
      flashcards: CARDS,
      tokenUsage: { promptTokens: 120, completionTokens: 40, totalTokens: 160 },
    });
  });

  it('posts the model, the bearer key, JSON mode and temperature 0 to /chat/completions', async () => {
    fake = await startFakeOpenAI(json(200, completion(JSON.stringify({ flashcards: CARDS }))));

    await generate(fake);

    expect(fake.received).toHaveLength(1);
    const [request] = fake.received;
    expect(request).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toMatchObject({ model: 'gpt-test', response_format: { type: 'json_object' }, temperature: 0 });
    const userMessage = JSON.stringify(request?.body);
    expect(userMessage).toContain('Osmosis is the diffusion of water');
    expect(userMessage).toContain('at most 5 flashcards');
  });

  it('keeps only count cards when the model returns more', async () => {
    fake = await startFakeOpenAI(json(200, completion(JSON.stringify({ flashcards: [...CARDS, ...CARDS, ...CARDS] }))));

    const { flashcards } = await generate(fake);

    expect(flashcards).toHaveLength(5);
  });

  it('fails without retry on 401, quoting the status and the provider message but never the key', async () => {
    fake = await startFakeOpenAI(json(401, { error: { message: `Incorrect API key provided: ${API_KEY}`, type: 'invalid_request_error' } }));

    const failure = await generate(fake).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ code: 'PROVIDER_REJECTED', retryable: false });
    const { message } = failure as ProviderError;
    expect(message).toContain('HTTP 401');
    expect(message).toContain('Incorrect API key provided');
    expect(message).not.toContain(API_KEY);
  });

  it('fails without retry on 404 for an unknown model', async () => {
    fake = await startFakeOpenAI(json(404, { error: { message: 'The model `gpt-test` does not exist' } }));

    await expect(generate(fake)).rejects.toMatchObject({
      code: 'PROVIDER_REJECTED',
      retryable: false,
      message: 'HTTP 404: The model `gpt-test` does not exist',
    });
  });

  it.each([
    [500, { error: { message: 'The server had an error' } }],
    [503, 'upstream connect error'],
    [429, { error: { message: 'Rate limit reached' } }],
  ])('fails retryably as PROVIDER_UNAVAILABLE on HTTP %i', async (status, body) => {
    fake = await startFakeOpenAI(
      typeof body === 'string'
        ? (res) => {
            res.writeHead(status, { 'content-type': 'text/plain' });
            res.end(body);
          }
        : json(status, body),
    );

    await expect(generate(fake)).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      retryable: true,
      message: expect.stringContaining(`HTTP ${status}`),
    });
  });

  it.each([
    ['a message that is not JSON', completion('Here are your flashcards: 1. What is osmosis?')],
    ['JSON without flashcards', completion(JSON.stringify({ cards: CARDS }))],
    ['cards with an empty back', completion(JSON.stringify({ flashcards: [{ front: 'Q?', back: '' }] }))],
    ['a completion without usage', { choices: [{ message: { content: JSON.stringify({ flashcards: CARDS }) } }] }],
  ])('fails retryably as PROVIDER_BAD_RESPONSE on %s', async (_label, body) => {
    fake = await startFakeOpenAI(json(200, body));

    await expect(generate(fake)).rejects.toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', retryable: true });
  });

  it('fails retryably as PROVIDER_BAD_RESPONSE when the body is not JSON at all', async () => {
    fake = await startFakeOpenAI((res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>gateway</html>');
    });

    await expect(generate(fake)).rejects.toMatchObject({ code: 'PROVIDER_BAD_RESPONSE', retryable: true });
  });

  it('times out retryably within the configured timeout when the server never answers', async () => {
    fake = await startFakeOpenAI(() => {
      // Never answers.
    });

    const started = performance.now();
    const failure = await generate(fake, { timeoutMs: 200 }).catch((err: unknown) => err);
    const elapsedMs = performance.now() - started;

    expect(failure).toMatchObject({ code: 'PROVIDER_TIMEOUT', retryable: true, message: 'no answer within 200 ms' });
    expect(elapsedMs).toBeGreaterThanOrEqual(190);
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it('fails retryably as PROVIDER_UNAVAILABLE when nothing listens at the base URL', async () => {
    const closed = await startFakeOpenAI(json(200, {}));
    await closed.close();

    await expect(generate(closed)).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      retryable: true,
      message: 'request failed (fetch failed: ECONNREFUSED)',
    });
  });

  it('stops waiting as soon as the job signal aborts', async () => {
    fake = await startFakeOpenAI(() => {
      // Never answers.
    });
    const abort = new AbortController();
    const pending = providerFor(fake).generate(INPUT, abort.signal);
    abort.abort();

    await expect(pending).rejects.toMatchObject({ code: 'PROVIDER_ABORTED', retryable: true });
  });

  it('refuses unusable options at construction', () => {
    expect(() => createOpenAIProvider({ baseUrl: 'not a url', apiKey: API_KEY, model: '', timeoutMs: 0 })).toThrow(
      /invalid options \(baseUrl: must be an http\(s\) URL; model: must not be empty; timeoutMs: must be a positive number of milliseconds\)/,
    );
  });
});
