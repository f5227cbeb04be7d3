import { z } from 'zod';
import { defineJobType } from './define.js';

export const flashcardSchema = z.object({ front: z.string().min(1), back: z.string().min(1) });

export const tokenUsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
});

/** What a `flashcards.generate` job returns. */
export const flashcardsResultSchema = z.object({
  flashcards: z.array(flashcardSchema),
  tokenUsage: tokenUsageSchema,
  provider: z.string(),
});

const SAMPLE_CONTENT =
  'Photosynthesis turns light energy into chemical energy. In the light reactions, chlorophyll absorbs light and splits water, releasing oxygen. The Calvin cycle then fixes carbon dioxide into sugars using ATP and NADPH.';

/** `flashcards.generate`: derives question/answer cards from study content through a provider. */
export const flashcardsGenerate = defineJobType({
  name: 'flashcards.generate',
  description: 'Generates question/answer flashcards from study content.',
  payload: z
    .object({
      subject: z.string().trim().min(1).max(200).meta({ title: 'Subject', examples: ['Biology'] }),
      topic: z.string().trim().min(1).max(200).meta({ title: 'Topic', examples: ['Photosynthesis'] }),
      count: z.number().int().min(1).max(50).default(5).meta({ title: 'Number of cards' }),
      content: z.string().trim().min(1).max(50_000).meta({ title: 'Study content', examples: [SAMPLE_CONTENT] }),
    })
    .strict(),
  result: flashcardsResultSchema,
  retry: { attempts: 3, backoffMs: 2_000 },
});

export type Flashcard = z.infer<typeof flashcardSchema>;
export type TokenUsage = z.infer<typeof tokenUsageSchema>;
export type FlashcardsResult = z.infer<typeof flashcardsResultSchema>;
