import type { JobTypeName } from '@jobstream/contracts';
import type { FlashcardsProvider } from '../flashcards/provider.js';
import { demoWorkHandler } from './demo-work.js';
import { createFlashcardsHandler } from './flashcards-generate.js';
import type { JobHandler } from './job-handler.js';

/** The processor of every job type the contracts declare. */
export type JobCatalog = Record<JobTypeName, JobHandler>;

/** Every processor, by job type. Adding a type: its handler file and one line here. */
export function createJobCatalog(deps: { flashcardsProvider: FlashcardsProvider }, overrides: Partial<JobCatalog> = {}): JobCatalog {
  return {
    'demo.work': demoWorkHandler as JobHandler,
    'flashcards.generate': createFlashcardsHandler(deps.flashcardsProvider) as JobHandler,
    ...overrides,
  };
}
