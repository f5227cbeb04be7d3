import { demoWork, type DemoWorkResult } from '@jobstream/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineJobHandler } from './job-handler.js';

/** Sleeps `durationMs` in `steps` slices, reporting progress after each; fails its first `failAttempts` attempts. */
export const demoWorkHandler = defineJobHandler(demoWork, async (payload, ctx) => {
  const slices = Math.max(payload.steps, 1);
  const sliceMs = payload.durationMs / slices;
  for (let step = 1; step <= slices; step += 1) {
    await sleep(sliceMs, undefined, { signal: ctx.signal });
    if (payload.steps > 0) await ctx.reportProgress(Math.round((step / payload.steps) * 100));
  }
  if (ctx.attempt <= payload.failAttempts) {
    throw new Error(`demo.work fails attempt ${ctx.attempt} of the first ${payload.failAttempts} on purpose`);
  }
  // The payload came from a JSON body, so its `result` is JSON; the worker checks it all the same.
  return (payload.result as DemoWorkResult | undefined) ?? { ok: true, durationMs: payload.durationMs, steps: payload.steps };
});
