import { startSpan, streamIdMs, type TraceSpan } from '@jobstream/runtime';
import type { AppendEvent } from './append-events.js';
import { isFinalEvent } from './map-bull-event.js';

/** The relay spans of one batch; `end` is called once the batch is written (or failed to be). */
export interface RelaySpans {
  end(err?: unknown): void;
}

/**
 * Starts a span for each traced job's outcome in the batch, a child of the job's enqueue span,
 * from the moment BullMQ recorded the outcome until the relay has written it to the history, the
 * owner's channel and the feed; each such event carries the span to the api through its history
 * entry. Only outcomes: they are what the job's trace ends with, and the relay reads their job's
 * hash anyway (see EventRelay.mapEntries), so tracing costs one more field there and nothing else.
 */
export function traceOutcomes(batch: AppendEvent[], traces: Map<string, string>): RelaySpans {
  const spans: TraceSpan[] = [];
  for (const item of batch) {
    const parent = traces.get(item.event.jobId);
    if (!parent || !isFinalEvent(item.event)) continue;
    const span = startSpan('jobstream.job.relay', {
      kind: 'producer',
      parent,
      startTimeMs: streamIdMs(item.event.id),
      attributes: { 'jobstream.job.id': item.event.jobId, 'jobstream.event.name': item.event.event, 'jobstream.event.id': item.event.id },
    });
    if (!span) continue;
    // An unsampled trace has nothing for the api to add to: its history entry stays as it was.
    if (span.sampled) item.traceparent = span.traceparent;
    spans.push(span);
  }
  return {
    end(err) {
      for (const span of spans) {
        if (err !== undefined) span.fail(err);
        span.end();
      }
    },
  };
}
