import { z } from 'zod';
import { defineJobType } from './define.js';

/** `demo.work`: works for `durationMs`, reports progress `steps` times, fails its first `failAttempts` attempts. */
export const demoWork = defineJobType({
  name: 'demo.work',
  description: 'Works for durationMs, reporting progress steps times; fails its first failAttempts attempts.',
  payload: z
    .object({
      durationMs: z.number().int().min(0).max(600_000),
      steps: z.number().int().min(0).max(1_000).default(0),
      failAttempts: z.number().int().min(0).max(10).default(0),
      result: z.unknown().optional(),
    })
    .strict(),
  retry: { attempts: 3, backoffMs: 200 },
});
