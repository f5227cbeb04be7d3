import type { CircuitBreakerStateName } from '@jobstream/contracts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const BREAKER_STATES: CircuitBreakerStateName[] = ['closed', 'open', 'half_open'];

/** What the registry reads at scrape time. */
export interface WorkerMetricSources {
  activeJobs: () => number;
  relay: () => { leader: boolean; relayed: number; gaps: number } | undefined;
  /** Whether this worker dispatches webhooks now (undefined: webhooks are off here). */
  webhookDispatcherLeader: () => boolean | undefined;
}

/**
 * The worker's Prometheus metrics on a registry of its own (several workers may share a process
 * in tests). Names follow the Prometheus conventions: `jobstream_` prefix, base units, `_total` on counters.
 */
export function createWorkerMetrics(sources: WorkerMetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: 'jobstream_worker_active_jobs',
    help: 'Attempts this worker is running now.',
    registers,
    collect() {
      this.set(sources.activeJobs());
    },
  });
  new Gauge({
    name: 'jobstream_relay_leader',
    help: '1 while this worker relays queue events to the job histories, else 0.',
    registers,
    collect() {
      this.set(sources.relay()?.leader ? 1 : 0);
    },
  });
  const follow = (read: () => number) => {
    let seen = 0;
    return function (this: Counter) {
      const total = read();
      if (total > seen) this.inc(total - seen);
      seen = total;
    };
  };
  new Counter({
    name: 'jobstream_relay_events_total',
    help: 'Lifecycle events this worker relayed.',
    registers,
    collect: follow(() => sources.relay()?.relayed ?? 0),
  });
  new Counter({
    name: 'jobstream_relay_gaps_total',
    help: 'Times queue events were trimmed before they could be relayed.',
    registers,
    collect: follow(() => sources.relay()?.gaps ?? 0),
  });

  new Gauge({
    name: 'jobstream_webhook_dispatcher_leader',
    help: '1 while this worker turns feed events into webhook deliveries, else 0.',
    registers,
    collect() {
      this.set(sources.webhookDispatcherLeader() ? 1 : 0);
    },
  });

  const breakerState = new Gauge({
    name: 'jobstream_circuit_breaker_state',
    help: 'Provider circuit breaker state: 1 for the current state, 0 for the others.',
    labelNames: ['breaker', 'state'],
    registers,
  });
  return {
    registry,
    attempts: new Counter({
      name: 'jobstream_worker_attempts_total',
      help: 'Attempts this worker finished, by job type and outcome.',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    attemptSeconds: new Histogram({
      name: 'jobstream_worker_attempt_duration_seconds',
      help: 'Run time of one attempt, by job type and outcome.',
      labelNames: ['type', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    webhookAttempts: new Counter({
      name: 'jobstream_webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts this worker made, by outcome: success (2xx), http_error, redirect, timeout, network, refused.',
      labelNames: ['outcome'],
      registers,
    }),
    webhookAttemptSeconds: new Histogram({
      name: 'jobstream_webhook_delivery_duration_seconds',
      help: 'Time of one webhook delivery attempt until its answer (or its failure), by outcome.',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'jobstream_webhook_deliveries_total',
      help: 'Webhook deliveries by what became of them: queued (by the dispatcher), over_cap (logged dead at the pending cap), dead (given up after attempts).',
      labelNames: ['outcome'],
      registers,
    }),
    webhookEndpointsDisabled: new Counter({
      name: 'jobstream_webhook_endpoints_disabled_total',
      help: 'Webhook endpoints this worker turned off because their deliveries kept failing.',
      registers,
    }),
    /** Sets the breaker's one-hot state series. */
    setBreakerState(breaker: string, state: CircuitBreakerStateName): void {
      for (const s of BREAKER_STATES) breakerState.set({ breaker, state: s }, s === state ? 1 : 0);
    },
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
