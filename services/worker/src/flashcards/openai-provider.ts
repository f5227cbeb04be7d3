import { flashcardSchema } from '@jobstream/contracts';
import { z } from 'zod';
import { ProviderError } from './provider-error.js';
import type { FlashcardsInput, FlashcardsOutput, FlashcardsProvider } from './provider.js';

/** Where and how to reach an OpenAI-compatible chat completions API. None of these has a default. */
export interface OpenAIProviderOptions {
  /** API root such as `https://api.openai.com/v1`; `/chat/completions` is appended. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer ...`; never put in an error message. */
  apiKey: string;
  /** Model name, e.g. `gpt-4o-mini`. */
  model: string;
  /** Limit for one request, reading the response included. */
  timeoutMs: number;
}

const optionsSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/u, error: 'must be an http(s) URL' }),
  apiKey: z.string().min(1, 'must not be empty'),
  model: z.string().min(1, 'must not be empty'),
  timeoutMs: z.number().int().positive('must be a positive number of milliseconds'),
});

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1),
  // Required rather than estimated: the job result reports what the provider bills.
  usage: z.object({
    prompt_tokens: z.number().int().nonnegative(),
    completion_tokens: z.number().int().nonnegative(),
    total_tokens: z.number().int().nonnegative(),
  }),
});

const answerSchema = z.object({ flashcards: z.array(flashcardSchema).min(1) });

/** OpenAI's `{ error: { message } }`, and the plain `{ error: "..." }` some compatible servers send. */
const errorBodySchema = z.object({ error: z.union([z.string(), z.object({ message: z.string() })]) });

const SYSTEM_PROMPT =
  'You write study flashcards. Reply with only a JSON object of the form ' +
  '{"flashcards":[{"front":"a question","back":"its answer"}]}. Each card asks one thing the ' +
  'content states and the back answers it briefly. Do not add facts that are not in the content.';

/** Longest provider error text quoted in our messages; a whole HTML error page helps nobody. */
const MAX_DETAIL_CHARS = 300;

function issuesText(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

/** The provider's own explanation of a failed request, if it gave one, without our key in it. */
function providerDetail(bodyText: string, apiKey: string): string {
  let detail = bodyText.trim();
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(bodyText));
    if (parsed.success) detail = typeof parsed.data.error === 'string' ? parsed.data.error : parsed.data.error.message;
  } catch {
    // Not JSON: quote the text as it is.
  }
  // A provider may echo the key it rejected; ours must never reach logs or job results.
  return detail.split(apiKey).join('[redacted]').slice(0, MAX_DETAIL_CHARS);
}

function statusError(status: number, bodyText: string, apiKey: string): ProviderError {
  const detail = providerDetail(bodyText, apiKey);
  const message = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) return new ProviderError('PROVIDER_UNAVAILABLE', message);
  if (status >= 400) return new ProviderError('PROVIDER_REJECTED', message);
  return new ProviderError('PROVIDER_BAD_RESPONSE', `unexpected ${message}`);
}

function requestError(err: unknown, jobSignal: AbortSignal, timeout: AbortSignal, timeoutMs: number): ProviderError {
  if (jobSignal.aborted) return new ProviderError('PROVIDER_ABORTED', 'request cancelled: the worker is stopping', { cause: err });
  if (timeout.aborted) return new ProviderError('PROVIDER_TIMEOUT', `no answer within ${timeoutMs} ms`, { cause: err });
  return new ProviderError('PROVIDER_UNAVAILABLE', `request failed (${describeFetchFailure(err)})`, { cause: err });
}

/**
 * fetch rejects with "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
 * Parsed rather than checked with `instanceof Error`, which is false for errors from another realm.
 */
const fetchFailureSchema = z.object({
  message: z.string(),
  cause: z.object({ code: z.string().optional(), message: z.string().optional() }).optional(),
});

function describeFetchFailure(err: unknown): string {
  const parsed = fetchFailureSchema.safeParse(err);
  if (!parsed.success) return String(err);
  const reason = parsed.data.cause?.code || parsed.data.cause?.message;
  return reason ? `${parsed.data.message}: ${reason}` : parsed.data.message;
}

function parseCompletion(bodyText: string, count: number): FlashcardsOutput {
  const bad = (message: string, cause?: unknown) => new ProviderError('PROVIDER_BAD_RESPONSE', message, { cause });
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch (err) {
    throw bad('the response body is not JSON', err);
  }
  const completion = completionSchema.safeParse(body);
  if (!completion.success) throw bad(`the response is not a chat completion (${issuesText(completion.error)})`);
  const [choice] = completion.data.choices;
  let answer: unknown;
  try {
    answer = JSON.parse(choice?.message.content ?? '');
  } catch (err) {
    throw bad("the model's answer is not JSON", err);
  }
  const cards = answerSchema.safeParse(answer);
  if (!cards.success) throw bad(`the model's answer has no valid flashcards (${issuesText(cards.error)})`);
  const { usage } = completion.data;
  return {
    // Models do not always respect the count they are asked for.
    flashcards: cards.data.flashcards.slice(0, count),
    tokenUsage: {
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      totalTokens: usage.total_tokens,
    },
  };
}

/**
 * A provider that asks an OpenAI-compatible chat completions API for cards in JSON mode.
 * Throws at construction when an option is unusable, so a bad deployment fails at start-up.
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): FlashcardsProvider {
  const checked = optionsSchema.safeParse(options);
  if (!checked.success) throw new Error(`openai flashcards provider: invalid options (${issuesText(checked.error)})`);
  const { apiKey, model, timeoutMs } = checked.data;
  const url = `${checked.data.baseUrl.replace(/\/+$/u, '')}/chat/completions`;

  return {
    name: 'openai',
    async generate(input: FlashcardsInput, signal: AbortSignal): Promise<FlashcardsOutput> {
      const request = {
        model,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          {
            role: 'user',
            content: `Subject: ${input.subject}\nTopic: ${input.topic}\nWrite at most ${input.count} flashcards from this content:\n\n${input.content}`,
          },
        ],
        response_format: { type: 'json_object' },
        // Same content, same cards, as far as the model allows.
        temperature: 0,
      };
      const timeout = AbortSignal.timeout(timeoutMs);
      let status: number;
      let bodyText: string;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify(request),
          signal: AbortSignal.any([signal, timeout]),
        });
        status = response.status;
        // Read inside the try: a server that stalls mid-body must hit the same timeout.
        bodyText = await response.text();
      } catch (err) {
        throw requestError(err, signal, timeout, timeoutMs);
      }
      if (status < 200 || status > 299) throw statusError(status, bodyText, apiKey);
      return parseCompletion(bodyText, input.count);
    },
  };
}
