import type { Flashcard, TokenUsage } from '@jobstream/contracts';

/** What a provider is asked for: the validated `flashcards.generate` payload. */
export interface FlashcardsInput {
  content: string;
  subject: string;
  topic: string;
  /** Most cards to return; a provider may return fewer when the content is short. */
  count: number;
}

/** What a provider answers with; the handler adds the provider's name to make the job result. */
export interface FlashcardsOutput {
  flashcards: Flashcard[];
  tokenUsage: TokenUsage;
}

/** A source of flashcards. Failures are thrown as `ProviderError` so the handler can decide on retries. */
export interface FlashcardsProvider {
  /** Recorded in each job result (`provider`) and in error messages. */
  readonly name: string;
  /** Generates up to `input.count` cards; stops early when `signal` aborts. */
  generate(input: FlashcardsInput, signal: AbortSignal): Promise<FlashcardsOutput>;
}
