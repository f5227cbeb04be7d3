import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The api's Prometheus metrics, on a registry of its own so that several api replicas can run in
 * one process (the integration tests do). Names follow the Prometheus conventions.
 */
export function createApiMetrics(sources: { sseConnections: () => number; eventsDelivered: () => number; sseQueuedBytes: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: 'jobstream_sse_connections',
    help: 'SSE streams open on this replica.',
    registers,
    collect() {
      this.set(sources.sseConnections());
    },
  });
  new Gauge({
    name: 'jobstream_sse_queued_bytes',
    help: "Bytes written to this replica's SSE streams that their clients have not read yet (what slow clients make it hold).",
    registers,
    collect() {
      this.set(sources.sseQueuedBytes());
    },
  });
  let deliveredSeen = 0;
  new Counter({
    name: 'jobstream_sse_events_delivered_total',
    help: 'Live lifecycle events handed to SSE streams on this replica (one per stream).',
    registers,
    collect() {
      // The hub keeps its own running total; the counter follows it.
      const total = sources.eventsDelivered();
      if (total > deliveredSeen) this.inc(total - deliveredSeen);
      deliveredSeen = total;
    },
  });
  return {
    registry,
    deliveryLag: new Histogram({
      name: 'jobstream_sse_delivery_lag_seconds',
      help: "Time from an event's creation (its id: BullMQ's for a job event, its channel's for a notification) to its hand-off to this replica's streams.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    httpRequests: new Counter({
      name: 'jobstream_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpErrors: new Counter({
      name: 'jobstream_http_errors_total',
      help: 'Error answers by route pattern and stable error code (RATE_LIMITED, TOO_MANY_STREAMS, BUDGET_LIMIT_EXCEEDED, ...).',
      labelNames: ['route', 'code'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'jobstream_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (for SSE streams: how long the stream was open), by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 300],
      registers,
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
