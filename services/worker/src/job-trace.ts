import type { SpanAttributes } from '@jobstream/runtime';
import type { Job } from 'bullmq';
import { z } from 'zod';

/** A W3C traceparent: version, trace id, parent span id, flags. */
const traceparentSchema = z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);

/**
 * The enqueue span the api wrote into the job (BullMQ's `telemetry.metadata`, stored as `tm` in
 * the job's options), or undefined for a job enqueued without tracing or by something else.
 */
export function enqueueTraceparent(job: Job): string | undefined {
  const metadata = job.opts.telemetry?.metadata;
  // Without tracing there is none: no parse (whose failure builds an issue) per attempt.
  if (metadata === undefined) return undefined;
  const parsed = traceparentSchema.safeParse(metadata);
  return parsed.success ? parsed.data : undefined;
}

/** The same, read from a job hash's raw `opts` field (the relay reads hash fields, not jobs). */
export function traceparentFromOptsField(opts: string | null | undefined): string | undefined {
  if (!opts) return undefined;
  try {
    const parsed = traceparentSchema.safeParse((JSON.parse(opts) as { tm?: unknown } | null)?.tm);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** What every span of a job's attempt says about it. */
export function jobSpanAttributes(job: Job): SpanAttributes {
  return {
    'messaging.system': 'bullmq',
    'messaging.destination.name': job.queueName,
    'jobstream.job.id': job.id ?? 'unknown',
    'jobstream.job.type': job.name,
    'jobstream.job.attempt': job.attemptsMade + 1,
  };
}
