import type { z } from 'zod';
import { demoWork } from './demo-work.js';
import { flashcardsGenerate } from './flashcards-generate.js';

export * from './define.js';
export * from './demo-work.js';
export * from './flashcards-generate.js';
export * from './payload-form.js';
export * from './payload-json-schema.js';

/** Every job type jobstream knows. Adding a type: its definition file and one line here. */
export const jobTypes = {
  [demoWork.name]: demoWork,
  [flashcardsGenerate.name]: flashcardsGenerate,
} as const;

export type JobTypeName = keyof typeof jobTypes;
export const jobTypeNames = Object.keys(jobTypes) as [JobTypeName, ...JobTypeName[]];
export type JobPayload<T extends JobTypeName> = z.output<(typeof jobTypes)[T]['payload']>;
/** What a job of type `T` completes with (its result schema's output). */
export type JobResult<T extends JobTypeName> = z.output<(typeof jobTypes)[T]['result']>;

export function isJobTypeName(name: string): name is JobTypeName {
  return Object.prototype.hasOwnProperty.call(jobTypes, name);
}
