import { inSpan, type SpanAttributes } from '@jobstream/runtime';

/**
 * Writes a traced job's outcome to one open stream inside a span of the job's trace: a child of
 * the relay's span, linked to the span of the request that opened the stream. Job streams and
 * notification streams both deliver outcomes this way.
 */
export function traceDelivery(
  relayed: string,
  openedBy: string | undefined,
  attributes: SpanAttributes,
  write: () => { closed: boolean; queuedBytes: number },
): void {
  inSpan('jobstream.stream.deliver', { kind: 'producer', parent: relayed, links: [openedBy], attributes }, (span) => {
    const after = write();
    span?.setAttributes({ 'jobstream.stream.closed': after.closed, 'jobstream.stream.queued_bytes': after.queuedBytes });
  });
}
