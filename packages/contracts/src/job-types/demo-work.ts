import { z } from 'zod';
import { defineJobType } from './define.js';

/**
 * What a `demo.work` job returns: the payload's `result` as it was sent, or
 * `{ ok: true, durationMs, steps }` without one. Either way JSON, as any result must be.
 */
export const demoWorkResultSchema = z.json();

/** `demo.work`: works for `durationMs`, reports progress `steps` times, fails its first `failAttempts` attempts. */
export const demoWork = defineJobType({
  name: 'demo.work',
  description: 'Works for durationMs, reporting progress steps times; fails its first failAttempts attempts.',
  payload: z
    .object({
      durationMs: z.number().int().min(0).max(600_000).meta({ title: 'Duration (ms)', examples: [4_000] }),
      steps: z.number().int().min(0).max(1_000).default(0).meta({ title: 'Progress steps', examples: [4] }),
      failAttempts: z
        .number()
        .int()
        .min(0)
        .max(10)
        .default(0)
        .meta({ title: 'Failing attempts', description: 'The first N attempts fail on purpose; a job has 3.' }),
      result: z.unknown().optional().meta({ title: 'Custom result', description: 'Any JSON; the job completes with it instead of its summary.' }),
    })
    .strict(),
  result: demoWorkResultSchema,
  retry: { attempts: 3, backoffMs: 200 },
});

export type DemoWorkResult = z.infer<typeof demoWorkResultSchema>;
