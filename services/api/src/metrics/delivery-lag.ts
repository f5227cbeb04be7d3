import type { Histogram } from 'prom-client';

/**
 * An observer for the hub's live events that records each one's delivery lag: now minus the time
 * in the event's id (a job event's is BullMQ's stream id, made when the event happened, so the lag
 * covers the relay, the feed and this replica's reader; a channel entry's is made when it was
 * written to its channel: by the relay, or by the publisher of a notification).
 */
export function deliveryLagObserver(lag: Pick<Histogram, 'observe'>): (events: readonly { id: string }[]) => void {
  return (events) => {
    const now = Date.now();
    for (const event of events) {
      const createdAt = Number(event.id.split('-')[0]);
      if (createdAt > 0) lag.observe(Math.max(0, now - createdAt) / 1_000);
    }
  };
}
