import type { LifecycleEvent } from '@jobstream/contracts';
import type { Histogram } from 'prom-client';

/** What is measured: the hub's `dispatch`, through which every live event reaches the streams. */
interface Dispatcher {
  dispatch(jobId: string, events: LifecycleEvent[]): void;
}

/**
 * Observes the delivery lag of every live event the hub dispatches: now minus the time in the
 * event's id (BullMQ's stream id, made when the event happened), so the lag covers the relay,
 * the feed and this replica's reader. The hub's `dispatch` is wrapped rather than given a metrics
 * dependency, which keeps the SSE code free of Prometheus.
 */
export function instrumentDispatch(hub: Dispatcher, lag: Pick<Histogram, 'observe'>): void {
  const dispatch = hub.dispatch.bind(hub);
  hub.dispatch = (jobId, events) => {
    dispatch(jobId, events);
    const now = Date.now();
    for (const event of events) {
      const createdAt = Number(event.id.split('-')[0]);
      if (createdAt > 0) lag.observe(Math.max(0, now - createdAt) / 1_000);
    }
  };
}
