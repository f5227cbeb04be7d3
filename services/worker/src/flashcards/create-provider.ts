import { createLocalProvider } from './local-provider.js';
import { createOpenAIProvider, type OpenAIProviderOptions } from './openai-provider.js';
import type { FlashcardsProvider } from './provider.js';

/** Which provider makes flashcards; the shape of the worker config's `flashcards` section. */
export interface FlashcardsProviderConfig {
  /** `local` (the worker config's default) derives cards offline; `openai` calls an OpenAI-compatible API. */
  provider: 'local' | 'openai';
  /** Required when `provider` is `openai`, ignored otherwise. */
  openai?: OpenAIProviderOptions;
}

/** The variable each required field comes from, so the error tells an operator what to set. */
const openaiRequired = { baseUrl: 'OPENAI_BASE_URL', apiKey: 'OPENAI_API_KEY' } as const;

/** Builds the configured flashcards provider; throws when `openai` is chosen without its base URL and key. */
export function createFlashcardsProvider(config: FlashcardsProviderConfig): FlashcardsProvider {
  switch (config.provider) {
    case 'local':
      return createLocalProvider();
    case 'openai': {
      const missing = Object.entries(openaiRequired)
        .filter(([field]) => !config.openai?.[field as keyof typeof openaiRequired])
        .map(([field, variable]) => `openai.${field} (${variable})`);
      if (!config.openai || missing.length > 0) {
        throw new Error(`flashcards provider "openai" needs ${missing.join(' and ')}`);
      }
      return createOpenAIProvider(config.openai);
    }
    default:
      throw new Error(`unknown flashcards provider "${String(config.provider)}" (expected "local" or "openai")`);
  }
}
