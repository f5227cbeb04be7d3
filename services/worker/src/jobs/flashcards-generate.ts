import { flashcardsGenerate, type FlashcardsResult } from '@jobstream/contracts';
import { UnrecoverableError } from 'bullmq';
import { ProviderError } from '../flashcards/provider-error.js';
import type { FlashcardsOutput, FlashcardsProvider } from '../flashcards/provider.js';
import { defineJobHandler } from './job-handler.js';

/**
 * Turns a provider failure into what BullMQ acts on: an `UnrecoverableError` fails the job at
 * once (a rejected key or unusable content fails the same way every time), a plain Error lets
 * the job type's retry policy try again.
 */
function toJobError(providerName: string, err: unknown): unknown {
  if (!(err instanceof ProviderError)) return err;
  const message = `flashcards provider ${providerName}: ${err.message}`;
  const jobError = err.retryable ? new Error(message) : new UnrecoverableError(message);
  jobError.cause = err;
  return jobError;
}

/** The `flashcards.generate` processor, generating through `provider`. */
export function createFlashcardsHandler(provider: FlashcardsProvider) {
  return defineJobHandler(flashcardsGenerate, async (payload, ctx): Promise<FlashcardsResult> => {
    await ctx.reportProgress(10);
    let output: FlashcardsOutput;
    try {
      output = await provider.generate(payload, ctx.signal);
    } catch (err) {
      if (err instanceof ProviderError) ctx.logger.warn({ code: err.code, retryable: err.retryable }, 'flashcards provider failed');
      throw toJobError(provider.name, err);
    }
    await ctx.reportProgress(100);
    return { flashcards: output.flashcards, tokenUsage: output.tokenUsage, provider: provider.name };
  });
}
